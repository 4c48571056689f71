/**
 * The wizard's draft: what its fields hold, the spec they describe, and the
 * other way round (a VM's spec as a draft, for "create from template" and
 * "clone"). Parts of a template's spec the wizard has no field for (machine,
 * CPU model, firmware, serial, agent, display, disks given by path) are kept
 * as they are.
 */
import type { ImageView, VmView } from '../../api/types.js';

type Spec = VmView['spec'];

export interface Draft {
  name: string; description: string; labels: string;
  /** `template`: boot what the template's disks boot (a disk given by its path), no new source disk. */
  source: 'kernel' | 'empty' | 'image' | 'template';
  kernel: string; initrd: string; cmdline: string; emptySize: string; image: string;
  cpus: string; memory: string;
  disks: Array<{ name: string; size: string }>;
  network: boolean; model: Spec['networks'][number]['model'];
  cloudInit: boolean; hostname: string; keys: string;
  start: boolean;
  /** The template's spec fields without a wizard field, merged under the draft's. */
  keep?: Record<string, unknown>;
  /** The template's disks the wizard cannot show as "name and size" (a path on the host), sent as they were. */
  keptDisks?: Array<Record<string, unknown>>;
}

export const EMPTY: Draft = { name: '', description: '', labels: '', source: 'kernel', kernel: '', initrd: '', cmdline: 'console=ttyS0', emptySize: '8Gi', image: '', cpus: '1', memory: '512Mi', disks: [], network: true, model: 'virtio', cloudInit: false, hostname: '', keys: '', start: true };

/** Bytes as the spec writes sizes: 2Gi, 512Mi, 262084Ki, else bytes. */
export function sizeText(n: number): string {
  for (const [u, f] of [['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) if (n >= f && n % f === 0) return `${n / f}${u}`;
  return String(n);
}

/** Where each disk ends up in the spec specOf builds: the source's disk first, then the kept ones, then the extra disks. */
export function diskIndexes(d: Draft): { source: number | null; extra: (i: number) => number } {
  const first = d.source === 'empty' || d.source === 'image' ? 1 : 0;
  const kept = d.keptDisks?.length ?? 0;
  return { source: first ? 0 : null, extra: (i) => first + kept + i };
}

/** The spec the draft describes; empty fields are left out so the daemon's defaults apply. */
export function specOf(d: Draft, images: readonly ImageView[]): Record<string, unknown> {
  const labels = Object.fromEntries(d.labels.split(/\n|,/).map((l) => l.trim()).filter(Boolean).map((l) => [l.split('=')[0]!.trim(), l.slice(l.indexOf('=') + 1).trim()]));
  const disks: Array<Record<string, unknown>> = [];
  const keep = d.keep ?? {};
  const boot: Record<string, unknown> = { ...(keep['boot'] as Record<string, unknown> | undefined) };
  delete boot['kernel']; delete boot['initrd']; delete boot['cmdline'];
  if (d.source === 'kernel') Object.assign(boot, { kernel: d.kernel || undefined, initrd: d.initrd || undefined, cmdline: d.cmdline || undefined });
  if (d.source === 'empty') disks.push({ name: 'root', size: d.emptySize });
  if (d.source === 'image') {
    const img = images.find((i) => i.name === d.image);
    disks.push({ name: 'install', path: img?.path ?? '', media: 'cdrom', readOnly: true });
  }
  disks.push(...(d.keptDisks ?? []));
  for (const x of d.disks) disks.push({ name: x.name, size: x.size });
  const cleanBoot = JSON.parse(JSON.stringify(boot)) as Record<string, unknown>;
  const spec: Record<string, unknown> = {
    ...keep,
    name: d.name,
    ...(d.description ? { description: d.description } : {}),
    ...(Object.keys(labels).length ? { labels } : {}),
    cpu: { ...(keep['cpu'] as object | undefined), count: Number(d.cpus) || d.cpus },
    memory: d.memory,
    ...(Object.keys(cleanBoot).length ? { boot: cleanBoot } : {}),
    ...(disks.length ? { disks } : {}),
    networks: d.network ? [{ name: 'net0', type: 'user', model: d.model }] : [],
  };
  if (!Object.keys(cleanBoot).length) delete spec['boot'];
  if (d.cloudInit) spec['cloudInit'] = { ...(keep['cloudInit'] as object | undefined), ...(d.hostname ? { hostname: d.hostname } : {}), sshAuthorizedKeys: d.keys.split('\n').map((k) => k.trim()).filter(Boolean) };
  else delete spec['cloudInit'];
  return spec;
}

/**
 * A VM's spec as a draft, name cleared: its kernel (or its first disk as the
 * empty disk or the library image it boots), its other sized disks, CPU,
 * memory, NIC and cloud-init. Explicit MACs and host port forwards are not
 * carried over (two VMs cannot have them both), as the clone form does.
 */
export function draftOf(spec: Spec, images: readonly ImageView[]): Draft {
  const d: Draft = { ...EMPTY, disks: [], name: '', description: spec.description, labels: Object.entries(spec.labels).map(([k, v]) => `${k}=${v}`).join('\n'), cpus: String(spec.cpu.count), memory: sizeText(spec.memory) };
  const disks = [...spec.disks];
  if (spec.boot.kernel) Object.assign(d, { source: 'kernel', kernel: spec.boot.kernel, initrd: spec.boot.initrd ?? '', cmdline: spec.boot.cmdline ?? '' });
  else {
    const first = disks[0];
    const img = first?.path ? images.find((i) => i.path === first.path) : undefined;
    if (first && first.media === 'cdrom' && img) { Object.assign(d, { source: 'image', image: img.name }); disks.shift(); }
    else if (first && first.path === undefined && first.media === 'disk' && first.size !== undefined) { Object.assign(d, { source: 'empty', emptySize: sizeText(Number(first.size)) }); disks.shift(); }
    else d.source = 'template';
  }
  const sized = disks.filter((x) => x.path === undefined && x.size !== undefined && x.media === 'disk');
  d.disks = sized.map((x) => ({ name: x.name, size: sizeText(Number(x.size)) }));
  d.keptDisks = disks.filter((x) => !sized.includes(x)).map((x) => ({ ...x }) as Record<string, unknown>);
  const nic = spec.networks[0];
  d.network = nic !== undefined;
  if (nic) d.model = nic.model;
  if (spec.cloudInit) Object.assign(d, { cloudInit: true, hostname: spec.cloudInit.hostname ?? '', keys: (spec.cloudInit.sshAuthorizedKeys ?? []).join('\n') });
  const { machine, serial, agent, display, boot, cloudInit } = spec;
  d.keep = { machine, serial, agent, display, cpu: { ...spec.cpu }, boot: { ...boot }, ...(cloudInit ? { cloudInit: { ...cloudInit } } : {}) };
  return d;
}
