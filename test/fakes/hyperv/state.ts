/**
 * The fake Hyper-V hosts' world: hosts, VMs (Generation 1 and 2), their
 * checkpoints, and jobs. One world can hold several hosts, each served on its
 * own port, so a VM can migrate between them. Disks are real VHDX files made
 * with qemu-img in `dir`; a checkpoint keeps copies of them, so revert gives
 * the bytes back.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { runChecked } from '../../../src/shared/index.js';
import { ENABLED_STATE, JOB_STATE } from './schema.js';

export interface FakeDisk {
  id: string;
  /** Where the Hyper-V host keeps it (the HostResource it shows). */
  winPath: string;
  /** The real VHDX file. */
  file: string;
}

export interface FakeNic {
  id: string;
  /** Twelve hex digits, as Hyper-V shows MACs. */
  mac: string;
  switchName: string;
}

export interface FakeSnap {
  id: string;
  name: string;
  parent: string | null;
  created: Date;
  cpus: number;
  memMiB: number;
  /** disk id → the copy of the disk file taken with the checkpoint. */
  copies: Record<string, string>;
}

export interface FakeVm {
  guid: string;
  name: string;
  host: string;
  gen: 1 | 2;
  state: number;
  cpus: number;
  memMiB: number;
  dynamicMemory: boolean;
  secureBoot: boolean;
  notes: string;
  disks: FakeDisk[];
  nics: FakeNic[];
  snaps: FakeSnap[];
  current: string | null;
}

export interface FakeJob {
  id: string;
  host: string;
  type: number;
  description: string;
  state: number;
  percent: number;
  errorCode: number;
  errorDescription: string;
  started: Date;
}

export interface VmSeed {
  name: string;
  host?: string;
  gen: 1 | 2;
  cpus?: number;
  memMiB?: number;
  dynamicMemory?: boolean;
  /** Disk sizes in MiB (empty VHDX files of that size), or a file to convert to VHDX. */
  disks?: Array<{ sizeMiB: number } | { from: string }>;
  nics?: number;
  state?: 'running' | 'off';
  notes?: string;
}

export class FakeError extends Error {
  constructor(readonly returnValue: number, message: string) {
    super(message);
  }
}

const MAC_BASE = 0x00155d010000;

export class World {
  readonly vms: FakeVm[] = [];
  readonly jobs = new Map<string, FakeJob>();
  readonly switches = new Map<string, string>([['Default Switch', 'C08CB7B8-9B3C-408E-8E30-5E16A3AEB444'], ['External', '8F7E4C2A-6B55-4B1E-9C2D-2C3A7E1F0B11']]);
  private macs = 0;

  constructor(readonly hosts: string[], readonly dir: string) {}

  async addVm(seed: VmSeed): Promise<FakeVm> {
    const host = seed.host ?? this.hosts[0]!;
    const guid = randomUUID().toUpperCase();
    await mkdir(path.join(this.dir, host), { recursive: true });
    const disks: FakeDisk[] = [];
    for (const [i, d] of (seed.disks ?? [{ sizeMiB: 8 }]).entries()) {
      const base = `${seed.name}${i ? `_${i}` : ''}.vhdx`;
      const file = path.join(this.dir, host, base);
      if ('from' in d) await runChecked('qemu-img', ['convert', '-O', 'vhdx', d.from, file], { timeoutMs: 120_000, failCode: 'INTERNAL' });
      else await runChecked('qemu-img', ['create', '-q', '-f', 'vhdx', file, `${d.sizeMiB}M`], { timeoutMs: 30_000, failCode: 'INTERNAL' });
      disks.push({ id: randomUUID().toUpperCase(), winPath: `C:\\ProgramData\\Microsoft\\Windows\\Virtual Hard Disks\\${base}`, file });
    }
    const nics = Array.from({ length: seed.nics ?? 1 }, (_x, i) => ({
      id: randomUUID().toUpperCase(),
      mac: (MAC_BASE + ++this.macs).toString(16).toUpperCase().padStart(12, '0'),
      switchName: i === 0 ? 'Default Switch' : 'External',
    }));
    const vm: FakeVm = {
      guid, name: seed.name, host, gen: seed.gen, state: seed.state === 'running' ? ENABLED_STATE.Running : ENABLED_STATE.Off,
      cpus: seed.cpus ?? 1, memMiB: seed.memMiB ?? 512, dynamicMemory: seed.dynamicMemory ?? false, secureBoot: seed.gen === 2,
      notes: seed.notes ?? '', disks, nics, snaps: [], current: null,
    };
    this.vms.push(vm);
    return vm;
  }

  vm(guid: string): FakeVm {
    const v = this.vms.find((x) => x.guid.toUpperCase() === guid.toUpperCase());
    if (!v) throw new FakeError(32768, `The virtual machine ${guid} was not found.`);
    return v;
  }

  snapOwner(snapId: string): { vm: FakeVm; snap: FakeSnap } {
    for (const vm of this.vms) {
      const snap = vm.snaps.find((s) => s.id.toUpperCase() === snapId.toUpperCase());
      if (snap) return { vm, snap };
    }
    throw new FakeError(32768, `The checkpoint ${snapId} was not found.`);
  }

  newJob(host: string, type: number, description: string): FakeJob {
    const j: FakeJob = { id: randomUUID().toUpperCase(), host, type, description, state: JOB_STATE.Running, percent: 0, errorCode: 0, errorDescription: '', started: new Date() };
    this.jobs.set(j.id, j);
    return j;
  }

  async snapshot(vm: FakeVm, name: string): Promise<FakeSnap> {
    const id = randomUUID().toUpperCase();
    const copies: Record<string, string> = {};
    const dir = path.join(this.dir, vm.host, 'Snapshots', id);
    await mkdir(dir, { recursive: true });
    for (const d of vm.disks) {
      copies[d.id] = path.join(dir, path.basename(d.file));
      await copyFile(d.file, copies[d.id]!);
    }
    const snap: FakeSnap = { id, name, parent: vm.current, created: new Date(), cpus: vm.cpus, memMiB: vm.memMiB, copies };
    vm.snaps.push(snap);
    vm.current = id;
    return snap;
  }

  async apply(vm: FakeVm, snap: FakeSnap): Promise<void> {
    for (const d of vm.disks) if (snap.copies[d.id]) await copyFile(snap.copies[d.id]!, d.file);
    vm.cpus = snap.cpus;
    vm.memMiB = snap.memMiB;
    vm.current = snap.id;
  }

  /** Hyper-V merges a deleted checkpoint: its children take its parent; the VM's current one moves up too. */
  async destroy(vm: FakeVm, snap: FakeSnap): Promise<void> {
    for (const s of vm.snaps) if (s.parent === snap.id) s.parent = snap.parent;
    if (vm.current === snap.id) vm.current = snap.parent;
    vm.snaps.splice(vm.snaps.indexOf(snap), 1);
    await rm(path.join(this.dir, vm.host, 'Snapshots', snap.id), { recursive: true, force: true });
  }
}
