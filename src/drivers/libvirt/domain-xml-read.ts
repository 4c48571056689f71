/**
 * libvirt domain XML → VmSpec: the adopt direction. Reads a domain Polyvisor
 * did not create (virsh define, virt-install, virt-manager) into a spec that
 * passes the spec's validator, with a sentence for everything that does not
 * map. A domain Polyvisor wrote reads back as exactly its spec: its
 * <metadata> carries the labels, the cloud-init section and the hints of
 * domain-xml-hints.ts. Pure.
 */
import { fail } from '../../shared/index.js';
import { specAsInput, validateSpec, type VmSpec, type VmSpecInput } from '../../spec/index.js';
import { bootIndexes } from '../qemu/argv.js';
import { applyHints } from './domain-xml-hints.js';
import { readMetadata, type PolyvisorMetadata } from './domain-xml-metadata.js';
import { child, parseDomainDocument, unknownChildren, type XNode } from './domain-xml-parse.js';
import { readDevices } from './domain-xml-read-devices.js';
import { readDisks } from './domain-xml-read-disks.js';
import { fits, specName } from './domain-xml-read-fit.js';
import { accelOf, readCpu, readMemory, readOs } from './domain-xml-read-machine.js';

export interface DomainRead {
  spec: VmSpec;
  uuid: string;
  /** What does not map, one short sentence each ("<hostdev> PCI passthrough 0000:01:00.0 is not kept"). */
  lossy: string[];
  /** Disk name → its image path (also for disks the spec holds as a size). */
  diskPaths: Record<string, string>;
}

/** Top-level elements that carry nothing the spec lacks, or are read below. */
const QUIET = ['name', 'uuid', 'title', 'description', 'metadata', 'memory', 'currentMemory', 'maxMemory', 'vcpu', 'os', 'features', 'cpu', 'clock',
  'on_poweroff', 'on_reboot', 'on_crash', 'pm', 'devices', 'seclabel', 'resource', 'genid'];
const FEATURES_QUIET = ['acpi', 'apic', 'pae', 'vmport', 'vmcoreinfo', 'smm', 'pmu', 'ioapic'];
const DESCRIPTION_MAX = 1024;

export function readDomainXml(xml: string): DomainRead {
  const core = readCore(parseDomainDocument(xml));
  const { spec, lossy } = withHints(core);
  const moved = bootChange(spec, core.bootOrders);
  return { spec, uuid: core.uuid, lossy: moved === undefined ? lossy : [...lossy, moved], diskPaths: core.diskPaths };
}

function withHints(core: CoreRead): { spec: VmSpec; lossy: string[] } {
  const hints = core.meta?.hints ?? [];
  if (hints.length === 0) return core;
  const { spec: hinted, stale } = applyHints(core.spec, hints);
  try {
    const spec = validateSpec(specAsInput({ ...hinted, memory: core.spec.memory }));
    return { spec, lossy: stale === 0 ? core.lossy : [...core.lossy, `${stale} Polyvisor hint(s) no longer match the XML (edited outside Polyvisor) and were not used`] };
  } catch {
    return { spec: core.spec, lossy: [...core.lossy, 'Polyvisor\'s metadata no longer fits this XML (edited outside Polyvisor): read from the XML alone'] };
  }
}

/** A sentence when the spec boots the XML's bootable devices in another order (the spec puts NICs after disks with a bootIndex). */
function bootChange(spec: VmSpec, xmlOrders: Map<string, number>): string | undefined {
  if (xmlOrders.size === 0) return undefined;
  const mine = bootIndexes(spec);
  const seq = (m: Map<string, number>): string[] => [...m].filter(([k]) => xmlOrders.has(k)).sort((a, b) => a[1] - b[1]).map(([k]) => k.replace(/^net:/, 'NIC '));
  const before = seq(xmlOrders);
  const after = seq(mine);
  return before.join() === after.join() ? undefined : `the boot order ${before.join(', ')} becomes ${after.join(', ')}`;
}

export interface CoreRead {
  spec: VmSpec;
  uuid: string;
  lossy: string[];
  diskPaths: Record<string, string>;
  /** The XML's per-device boot orders: disk name, or net:NAME for NICs. */
  bootOrders: Map<string, number>;
  meta?: PolyvisorMetadata;
}

/** The spec as the XML alone says it (plus labels and cloud-init from Polyvisor's metadata), hints not applied. */
export function readCore(root: XNode): CoreRead {
  const lossy: string[] = [];
  const rawName = child(root, 'name')?.text.trim() ?? '';
  const name = specName(rawName, 'imported');
  if (name !== rawName) lossy.push(`the name ${JSON.stringify(rawName)} becomes ${name}`);
  const uuid = child(root, 'uuid')?.text.trim() ?? '';
  const accel = accelOf(root);
  const meta = readMetadata(child(root, 'metadata'), lossy);
  const memory = readMemory(root, lossy);
  const cpu = readCpu(root, accel, lossy);
  const os = readOs(root, lossy);
  const devices = child(root, 'devices');
  const disks = readDisks(devices, { lossy, seedExpected: meta?.cloudInit !== undefined, ours: meta !== undefined });
  const dev = readDevices(devices, lossy, meta !== undefined);
  readOthers(root, lossy);
  const bootOrders = new Map([...disks.orders, ...[...dev.netOrders].map(([k, v]) => [`net:${k}`, v] as const)]);
  const order = bootOrders.size > 0 ? (dev.netOrders.size > 0 ? ['network' as const] : []) : (os.bootDevs ?? ['disk' as const]);
  let description = child(root, 'description')?.text ?? '';
  if (description.length > DESCRIPTION_MAX) {
    description = description.slice(0, DESCRIPTION_MAX);
    lossy.push(`the description is cut to ${DESCRIPTION_MAX} characters`);
  }
  const title = child(root, 'title')?.text.trim();
  if (title !== undefined && title !== '') lossy.push(`the title ${JSON.stringify(title)} is not kept`);
  const labels = Object.fromEntries(Object.entries(meta?.labels ?? {}).filter(([k, v]) => {
    const ok = fits({ labels: { [k]: v } });
    if (!ok) lossy.push(`label ${k}=${v} is not kept: not a valid label`);
    return ok;
  }));
  const input: VmSpecInput = {
    name, description, labels, cpu, memory: `${memory / 1024}Ki`,
    machine: { type: os.machine, accel },
    boot: { ...os.boot, order },
    disks: disks.disks,
    networks: dev.networks,
    serial: { enabled: dev.serial },
    agent: { enabled: dev.agent },
    display: { vnc: dev.vnc },
    ...(disks.seed && meta?.cloudInit ? { cloudInit: meta.cloudInit } : {}),
  };
  if (meta?.cloudInit && !disks.seed) lossy.push('Polyvisor\'s cloud-init section is not kept: the domain has no seed CD-ROM any more');
  return { spec: validateRead(input), uuid, lossy, diskPaths: disks.paths, bootOrders, ...(meta === undefined ? {} : { meta }) };
}

function validateRead(input: VmSpecInput): VmSpec {
  try {
    return validateSpec(input);
  } catch (err) {
    fail('SPEC_INVALID', `the domain does not read into a valid spec: ${(err as Error).message}`, { cause: err, details: (err as { details?: unknown }).details });
  }
}

function readOthers(root: XNode, lossy: string[]): void {
  for (const name of unknownChildren(root, QUIET)) lossy.push(`<${name}> is not kept`);
  for (const f of child(root, 'features')?.children ?? []) {
    if (!FEATURES_QUIET.includes(f.name)) lossy.push(`<features><${f.name}> is not kept`);
  }
  const offset = child(root, 'clock')?.attrs['offset'];
  if (offset !== undefined && offset !== 'utc') lossy.push(`the clock's ${offset} offset is not kept (the guest clock runs in UTC)`);
  const acts: Array<[string, string[]]> = [['on_poweroff', ['destroy']], ['on_reboot', ['restart']], ['on_crash', ['destroy', 'restart']]];
  for (const [el, ok] of acts) {
    const v = child(root, el)?.text.trim();
    if (v !== undefined && !ok.includes(v)) lossy.push(`${el} ${v} is not kept`);
  }
}
