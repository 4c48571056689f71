/**
 * The fake pool's database: one table per class of the datamodel excerpt,
 * records with exactly the excerpt's fields, references as XAPI makes them
 * ("OpaqueRef:" + a UUID), and an event log for event.from. Every change
 * goes through `mod`/`add`/`del` so that events follow.
 *
 * The default pool: two hosts (xcp1 the master, xcp2), a shared NFS SR, one
 * network, each host's control domain, one template, and VMs: `web` (HVM,
 * BIOS, halted, one disk, one empty CD, one NIC), `db` (HVM, UEFI, running
 * on xcp1, two disks), `legacy` (PV with pygrub, halted). Disks are real
 * files (raw, made with qemu-img) the export handler serves.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { runChecked } from '../../../src/shared/index.js';
import { DATAMODEL } from './datamodel.js';

export type Rec = Record<string, unknown>;

export interface XapiEvent {
  id: number;
  timestamp: string;
  class: string;
  operation: 'add' | 'mod' | 'del';
  ref: string;
  snapshot?: Rec;
}

export const MiB = 1024 * 1024;
export const NULL_REF = 'OpaqueRef:NULL';
const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class PoolDb {
  readonly tables = new Map<string, Map<string, Rec>>();
  readonly events: XapiEvent[] = [];
  /** VDI ref → its file on this host (raw). */
  readonly files = new Map<string, string>();
  private waiters: Array<() => void> = [];
  private seq = 0;

  constructor(readonly dir: string) {
    for (const c of Object.keys(DATAMODEL.classes)) this.tables.set(c, new Map());
  }

  table(cls: string): Map<string, Rec> {
    const t = this.tables.get(cls);
    if (!t) throw new Error(`no class ${cls}`);
    return t;
  }

  get(cls: string, ref: string): Rec | undefined {
    return this.tables.get(cls)?.get(ref);
  }

  /** A record of `cls` with every field of the excerpt: defaults by type, then `fields`. */
  add(cls: string, fields: Rec): string {
    const ref = `OpaqueRef:${randomUUID()}`;
    const rec: Rec = {};
    for (const [f, t] of Object.entries(DATAMODEL.classes[cls]!.fields)) {
      rec[f] = t.endsWith(' ref') ? NULL_REF : t.endsWith(' set') ? [] : t.endsWith(' map') ? {} : t === 'bool' ? false : t === 'int' ? 0 : t === 'float' ? 0 : t === 'datetime' ? '19700101T00:00:00Z' : '';
    }
    rec['uuid'] = randomUUID();
    Object.assign(rec, fields);
    this.table(cls).set(ref, rec);
    this.emit(cls, 'add', ref);
    return ref;
  }

  mod(cls: string, ref: string, fields: Rec): void {
    const rec = this.get(cls, ref);
    if (!rec) return;
    Object.assign(rec, fields);
    this.emit(cls, 'mod', ref);
  }

  del(cls: string, ref: string): void {
    if (this.table(cls).delete(ref)) this.emit(cls, 'del', ref);
  }

  private emit(cls: string, operation: XapiEvent['operation'], ref: string): void {
    const rec = this.get(cls, ref);
    this.events.push({ id: ++this.seq, timestamp: now(), class: cls.toLowerCase(), operation, ref, ...(rec ? { snapshot: structuredClone(rec) } : {}) });
    if (this.events.length > 5000) this.events.splice(0, 1000);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  get lastEventId(): number {
    return this.seq;
  }

  /** Resolves at the next event or after `ms`. */
  nextEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((f) => f !== done);
        resolve();
      }, ms);
      const done = (): void => {
        clearTimeout(t);
        resolve();
      };
      this.waiters.push(done);
    });
  }

  byName(cls: string, label: string): string[] {
    return [...this.table(cls)].filter(([, r]) => r['name_label'] === label).map(([ref]) => ref);
  }

  // ---- building the pool -------------------------------------------------------------------------------

  async newDisk(vm: string, label: string, sizeMiB: number, userdevice: string, sr: string, bootable: boolean, from?: string): Promise<string> {
    const file = path.join(this.dir, `${randomUUID()}.raw`);
    if (from) await copyFile(from, file);
    else await runChecked('qemu-img', ['create', '-q', '-f', 'raw', file, `${sizeMiB}M`], { timeoutMs: 30_000, failCode: 'INTERNAL' });
    const vdi = this.add('VDI', { name_label: label, SR: sr, virtual_size: sizeMiB * MiB, physical_utilisation: 0, type: 'user', location: path.basename(file, '.raw') });
    this.files.set(vdi, file);
    this.mod('SR', sr, { VDIs: [...(this.get('SR', sr)!['VDIs'] as string[]), vdi] });
    const vbd = this.add('VBD', { VM: vm, VDI: vdi, device: `xvd${String.fromCharCode(97 + Number(userdevice))}`, userdevice, bootable, mode: 'RW', type: 'Disk', empty: false });
    this.mod('VDI', vdi, { VBDs: [vbd] });
    this.mod('VM', vm, { VBDs: [...(this.get('VM', vm)!['VBDs'] as string[]), vbd] });
    return vdi;
  }

  /** A copy of a VDI (snapshots and clones), its file copied too. */
  async copyVdi(vdi: string, snapshot: boolean): Promise<string> {
    const src = this.get('VDI', vdi)!;
    const file = path.join(this.dir, `${randomUUID()}.raw`);
    await copyFile(this.files.get(vdi)!, file);
    const ref = this.add('VDI', { ...structuredClone(src), uuid: randomUUID(), VBDs: [], snapshots: [], is_a_snapshot: snapshot, snapshot_of: snapshot ? vdi : NULL_REF, location: path.basename(file, '.raw') });
    this.files.set(ref, file);
    if (snapshot) this.mod('VDI', vdi, { snapshots: [...(src['snapshots'] as string[]), ref] });
    const sr = src['SR'] as string;
    this.mod('SR', sr, { VDIs: [...(this.get('SR', sr)!['VDIs'] as string[]), ref] });
    return ref;
  }

  async destroyVdi(vdi: string): Promise<void> {
    const rec = this.get('VDI', vdi);
    if (!rec) return;
    const sr = rec['SR'] as string;
    this.mod('SR', sr, { VDIs: (this.get('SR', sr)!['VDIs'] as string[]).filter((r) => r !== vdi) });
    const f = this.files.get(vdi);
    this.files.delete(vdi);
    this.del('VDI', vdi);
    if (f) await rm(f, { force: true });
  }

  vif(vm: string, network: string, device: string, mac: string): string {
    const vif = this.add('VIF', { VM: vm, network, device, MAC: mac, MTU: 1500 });
    this.mod('VM', vm, { VIFs: [...(this.get('VM', vm)!['VIFs'] as string[]), vif] });
    this.mod('network', network, { VIFs: [...(this.get('network', network)!['VIFs'] as string[]), vif] });
    return vif;
  }
}

export interface VmSeed {
  name: string;
  power?: 'Halted' | 'Running' | 'Paused' | 'Suspended';
  host?: 'xcp1' | 'xcp2';
  vcpus?: number;
  memoryMiB?: number;
  firmware?: 'bios' | 'uefi';
  pv?: boolean;
  disksMiB?: number[];
  cd?: boolean;
  macs?: string[];
  /** The first disk's content: a copy of this raw file (its size is the disk's). */
  diskFrom?: string;
}

export const DEFAULT_VMS: VmSeed[] = [
  { name: 'web', vcpus: 1, memoryMiB: 256, disksMiB: [16], cd: true, macs: ['8e:2f:0a:00:00:01'] },
  { name: 'db', power: 'Running', host: 'xcp1', vcpus: 2, memoryMiB: 512, firmware: 'uefi', disksMiB: [8, 4], macs: ['8e:2f:0a:00:00:02'] },
  { name: 'legacy', pv: true, vcpus: 1, memoryMiB: 128, disksMiB: [4], macs: [] },
];

export async function buildPool(db: PoolDb, vms: VmSeed[]): Promise<{ hosts: Record<string, string>; sr: string; network: string }> {
  const sr = db.add('SR', { name_label: 'NFS virtual disk storage', type: 'nfs', content_type: 'user', shared: true, physical_size: 512 * 1024 * MiB });
  const hosts: Record<string, string> = {};
  for (const [i, h] of ['xcp1', 'xcp2'].entries()) {
    hosts[h] = db.add('host', {
      name_label: h, hostname: h, address: `127.0.0.${i + 1}`, enabled: true, memory_overhead: 64 * MiB,
      software_version: { product_brand: 'XCP-ng', product_version: '8.3.0', xapi: '24.19', platform_name: 'XCP', platform_version: '3.4.0' },
    });
    const dom0 = db.add('VM', { name_label: `Control domain on host: ${h}`, is_control_domain: true, power_state: 'Running', resident_on: hosts[h], VCPUs_max: 4, VCPUs_at_startup: 4, memory_static_max: 2048 * MiB, domid: 0 });
    db.mod('host', hosts[h], { resident_VMs: [dom0] });
  }
  db.add('pool', { name_label: 'fake-pool', master: hosts['xcp1'], default_SR: sr });
  const network = db.add('network', { name_label: 'Pool-wide network associated with eth0', bridge: 'xenbr0', MTU: 1500 });
  db.add('VM', { name_label: 'Debian Bookworm 12', is_a_template: true, is_default_template: true, power_state: 'Halted', VCPUs_max: 1, VCPUs_at_startup: 1, memory_static_max: 1024 * MiB });
  for (const s of vms) await addVm(db, s, hosts, sr, network);
  return { hosts, sr, network };
}

export async function addVm(db: PoolDb, s: VmSeed, hosts: Record<string, string>, sr: string, network: string): Promise<string> {
  const mem = (s.memoryMiB ?? 256) * MiB;
  const power = s.power ?? 'Halted';
  const metrics = db.add('VM_metrics', { memory_actual: power === 'Halted' ? 0 : mem, VCPUs_number: power === 'Halted' ? 0 : s.vcpus ?? 1, last_updated: now() });
  const host = power === 'Halted' ? NULL_REF : hosts[s.host ?? 'xcp1']!;
  const vm = db.add('VM', {
    name_label: s.name, name_description: `${s.name} (fake XCP-ng)`, power_state: power, resident_on: host,
    VCPUs_max: s.vcpus ?? 1, VCPUs_at_startup: s.vcpus ?? 1, memory_static_max: mem, memory_dynamic_max: mem, memory_dynamic_min: mem, memory_static_min: 64 * MiB,
    HVM_boot_policy: s.pv ? '' : 'BIOS order', HVM_boot_params: s.pv ? {} : { order: 'cd', ...(s.firmware === 'uefi' ? { firmware: 'uefi' } : { firmware: 'bios' }) },
    PV_bootloader: s.pv ? 'pygrub' : '', platform: s.pv ? {} : { viridian: 'false', acpi: '1', apic: 'true', pae: 'true', nx: 'true', 'device-model': 'qemu-upstream-compat' },
    domarch: power === 'Halted' ? '' : 'x64', domid: power === 'Halted' ? -1 : 7, metrics, other_config: { base_template_name: s.pv ? 'Other install media' : 'Debian Bookworm 12' },
    allowed_operations: [],
  });
  if (host !== NULL_REF) db.mod('host', host, { resident_VMs: [...(db.get('host', host)!['resident_VMs'] as string[]), vm] });
  const sizes = s.diskFrom ? [Math.ceil((await stat(s.diskFrom)).size / MiB), ...(s.disksMiB ?? []).slice(1)] : s.disksMiB ?? [16];
  for (const [i, size] of sizes.entries()) await db.newDisk(vm, `${s.name} disk ${i}`, size, String(i), sr, i === 0, i === 0 ? s.diskFrom : undefined);
  if (s.cd) {
    const vbd = db.add('VBD', { VM: vm, VDI: NULL_REF, device: 'xvdd', userdevice: '3', bootable: false, mode: 'RO', type: 'CD', empty: true });
    db.mod('VM', vm, { VBDs: [...(db.get('VM', vm)!['VBDs'] as string[]), vbd] });
  }
  for (const [i, mac] of (s.macs ?? []).entries()) db.vif(vm, network, String(i), mac);
  return vm;
}
