/**
 * libvirt domain XML as an interchange format (`polyvisor import vm.xml`,
 * `polyvisor export VM --format libvirt`): the driver's own spec ↔ domain XML
 * mapping (domain-xml.ts, domain-xml-read.ts) wrapped in the interchange
 * contract, so there is one mapping, not two. The XML is first checked by
 * interchange's safe parser (no entity declarations, no external DTD) before
 * the driver's parser reads it. Disks are named under libvirt's default image
 * directory; the import looks for a missing absolute path's file beside the
 * XML. Pure.
 */
import { createHash } from 'node:crypto';
import { PolyvisorError } from '../../shared/index.js';
import { specAsInput, type VmSpec, type VmSpecInput } from '../../spec/index.js';
import { parseForeignXml, Warnings, type ExportInput, type ExportResult, type ImportPlan, type ReadOptions } from '../../interchange/index.js';
import { domainXml } from './domain-xml.js';
import { readDomainXml } from './domain-xml-read.js';

/** Where the exported XML says the disks are: libvirt's default storage pool directory. */
export const LIBVIRT_IMAGE_DIR = '/var/lib/libvirt/images';

export function readLibvirtXml(text: string, o: ReadOptions): ImportPlan {
  parseForeignXml(text, 'the libvirt domain XML'); // refuses entities and external DTDs before the driver's parser sees the text
  let read;
  try {
    read = readDomainXml(text);
  } catch (err) {
    if (err instanceof PolyvisorError && err.code === 'SPEC_PARSE_FAILED') throw new PolyvisorError('INTERCHANGE_INVALID', err.message, { cause: err });
    throw err;
  }
  const w = new Warnings();
  for (const l of read.lossy) w.add(/<([a-z_]+)/.exec(l)?.[1] ?? 'domain', l);
  const spec = toInput(read.spec, o, w);
  const disks = read.spec.disks.map((d) => {
    const file = read.diskPaths[d.name] ?? d.path ?? '';
    return { name: d.name, file, format: d.format };
  });
  spec.disks = (spec.disks ?? []).map((d) => ({ ...d, path: read.diskPaths[d.name] ?? d.path, size: undefined }));
  return { format: 'libvirt', spec, disks, warnings: w.list };
}

function toInput(s: VmSpec, o: ReadOptions, w: Warnings): VmSpecInput {
  const input = { ...specAsInput(s), ...(o.name === undefined ? {} : { name: o.name }) } as VmSpecInput;
  if (o.virtio === true) {
    input.networks = s.networks.map((n, i) => {
      if (n.model !== 'virtio') w.add(`interface[${i}]`, `NIC model ${n.model} becomes virtio (--virtio)`);
      return { ...n, model: 'virtio' };
    });
    input.disks = s.disks.map((d, i) => {
      if (d.media === 'disk' && d.bus !== 'virtio') w.add(`disk[${i}]`, `the ${d.bus} disk ${d.name} becomes virtio (--virtio)`);
      return d.media === 'disk' ? { ...d, bus: 'virtio' } : d;
    });
  }
  return input;
}

/** A stable UUID from the VM name (golden files stay the same; libvirt wants one). */
function uuidOf(name: string): string {
  const h = createHash('sha256').update(`polyvisor-export:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function writeLibvirtXml(input: ExportInput): ExportResult {
  const { spec } = input;
  const w = new Warnings();
  const diskPaths: Record<string, string> = {};
  const diskFormats: Record<string, string> = {};
  for (const d of input.disks) {
    diskPaths[d.name] = `${LIBVIRT_IMAGE_DIR}/${d.file}`;
    diskFormats[d.name] = d.format;
  }
  if (input.disks.length > 0) w.add('disks', `the XML names the disks under ${LIBVIRT_IMAGE_DIR}: copy them there (or edit the paths) before virsh define`);
  if (spec.cloudInit) w.add('cloudInit', 'the cloud-init seed is not exported: the guest is not seeded on the target');
  // The spec as the target sees it: each exported disk at its new path, no cloud-init seed.
  const disks = spec.disks.map((d) => (diskPaths[d.name] === undefined ? d : { ...d, path: diskPaths[d.name], size: undefined, format: diskFormats[d.name] === 'raw' ? 'raw' as const : 'qcow2' as const }));
  const exported: VmSpec = { ...spec, disks, cloudInit: undefined };
  const accel = spec.machine.accel === 'tcg' ? 'qemu' : 'kvm';
  const xml = fitted(exported, w, (s) => domainXml(s, { uuid: uuidOf(spec.name), diskPaths, diskFormats, domainType: accel }));
  return { files: [{ name: `${spec.name}.xml`, content: xml }], warnings: w.list };
}

/** Fields domainXml cannot say yet, and what they become instead (each a warning). */
function fallback(spec: VmSpec, field: string, w: Warnings): VmSpec | undefined {
  const m = /^(networks|disks)\.(\d+)\.(\w+)$/.exec(field);
  if (field === 'display.video') {
    w.add(field, `the video card ${spec.display.video} becomes VGA`);
    return { ...spec, display: { ...spec.display, video: undefined } };
  }
  if (field === 'boot.secureBoot') {
    w.add(field, 'secure boot is not written: add <loader secure=\'yes\'> and <smm state=\'on\'/> on the target');
    return { ...spec, boot: { ...spec.boot, secureBoot: undefined } };
  }
  if (field === 'os') {
    w.add(field, `the OS hint ${spec.os?.type ?? ''}${spec.os?.variant === undefined ? '' : ` (${spec.os.variant})`} is not kept in the XML`);
    return { ...spec, os: undefined };
  }
  if (field === 'scsiController') {
    w.add(field, `the SCSI controller ${spec.scsiController} becomes virtio-scsi`);
    return { ...spec, scsiController: undefined };
  }
  if (m?.[1] === 'disks' && m[3] === 'bus') {
    const i = Number(m[2]);
    w.add(field, `the ${spec.disks[i]!.bus} disk ${spec.disks[i]!.name} becomes sata`);
    return { ...spec, disks: spec.disks.map((d, k) => (k === i ? { ...d, bus: 'sata' as const, readOnly: d.media === 'disk' ? false : d.readOnly } : d)) };
  }
  if (m?.[1] === 'networks' && m[3] === 'model') {
    const i = Number(m[2]);
    w.add(field, `the ${spec.networks[i]!.model} NIC becomes e1000`);
    return { ...spec, networks: spec.networks.map((n, k) => (k === i ? { ...n, model: 'e1000' as const } : n)) };
  }
  return undefined;
}

/** domainXml, retried with a fallback for each field it says it cannot hold. */
function fitted(spec: VmSpec, w: Warnings, render: (s: VmSpec) => string): string {
  let s = spec;
  for (let tries = 0; ; tries++) {
    try {
      return render(s);
    } catch (err) {
      const field = (err as { details?: Array<{ field?: string }> }).details?.[0]?.field;
      const next = tries < 40 && err instanceof PolyvisorError && err.code === 'SPEC_INVALID' && field !== undefined ? fallback(s, field, w) : undefined;
      if (next === undefined) throw err;
      s = next;
    }
  }
}
