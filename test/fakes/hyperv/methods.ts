/**
 * The methods the fake runs, with Hyper-V's rules: which state transitions
 * RequestStateChange accepts (else 32775 Invalid state), CPU and memory
 * changed only while off, a checkpoint applied only to a VM that is off or
 * saved, a migration only to another known host. Each answers 4096 and a
 * job, as Hyper-V does for all of them.
 */
import { copyFile, mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { XmlElement } from '../../../src/interchange/safe-xml.js';
import { readEmbedded } from './embedded.js';
import type { JobRunner } from './jobs.js';
import { ENABLED_STATE as S, RETURN } from './schema.js';
import { FakeError, type FakeJob, type FakeVm, type World } from './state.js';
import { eprSelectors } from './wsman.js';

export interface MethodResult {
  returnValue: number;
  job?: FakeJob;
  /** Extra output parameters (already XML, prefixed p:). */
  extra?: string;
}

export interface MethodCall {
  host: string;
  cls: string;
  method: string;
  selectors: Record<string, string>;
  args: Map<string, XmlElement[]>;
}

const TRANSITIONS: Record<number, { from: number[]; via: number; to: number; what: string }> = {
  [S.Running]: { from: [S.Off, S.Saved, S.Paused], via: S.Starting, to: S.Running, what: 'Start' },
  [S.Off]: { from: [S.Running, S.Paused, S.Saved], via: S.ShuttingDown, to: S.Off, what: 'Turn Off' },
  [S.ShuttingDown]: { from: [S.Running], via: S.ShuttingDown, to: S.Off, what: 'Shut Down' },
  [S.Saved]: { from: [S.Running, S.Paused], via: S.Saving, to: S.Saved, what: 'Save' },
  [S.Paused]: { from: [S.Running], via: S.Pausing, to: S.Paused, what: 'Pause' },
  [S.Reset]: { from: [S.Running], via: S.Reset, to: S.Running, what: 'Reset' },
};

const one = (c: MethodCall, name: string): XmlElement | undefined => c.args.get(name)?.[0];
const str = (c: MethodCall, name: string): string | undefined => one(c, name)?.text.trim();

export class Methods {
  constructor(private readonly w: World, private readonly jobs: JobRunner) {}

  private vmOf(c: MethodCall, param: string): FakeVm {
    const sel = eprSelectors(one(c, param));
    const vm = this.w.vm(sel['Name'] ?? '');
    if (vm.host !== c.host) throw new FakeError(RETURN.InvalidParameter, `The virtual machine ${vm.name} is not on host ${c.host}.`);
    return vm;
  }

  private snapOf(c: MethodCall, param: string): ReturnType<World['snapOwner']> {
    const id = (eprSelectors(one(c, param))['InstanceID'] ?? '').replace(/^Microsoft:/, '');
    const r = this.w.snapOwner(id);
    if (r.vm.host !== c.host) throw new FakeError(RETURN.InvalidParameter, `The checkpoint ${id} is not on host ${c.host}.`);
    return r;
  }

  async call(c: MethodCall): Promise<MethodResult> {
    const key = `${c.cls}.${c.method}`;
    switch (key) {
      case 'Msvm_ComputerSystem.RequestStateChange': return this.requestStateChange(c);
      case 'Msvm_VirtualSystemManagementService.ModifyResourceSettings': return this.modifyResources(c);
      case 'Msvm_VirtualSystemManagementService.ModifySystemSettings': return this.modifySystem(c);
      case 'Msvm_VirtualSystemManagementService.ExportSystemDefinition': return this.exportSystem(c);
      case 'Msvm_VirtualSystemSnapshotService.CreateSnapshot': return this.createSnapshot(c);
      case 'Msvm_VirtualSystemSnapshotService.ApplySnapshot': return this.applySnapshot(c);
      case 'Msvm_VirtualSystemSnapshotService.DestroySnapshot': return this.destroySnapshot(c);
      case 'Msvm_VirtualSystemMigrationService.MigrateVirtualSystemToHost': return this.migrate(c);
      default: throw new FakeError(RETURN.NotSupported, `The method ${key} is not supported.`);
    }
  }

  private requestStateChange(c: MethodCall): MethodResult {
    const vm = this.w.vm(c.selectors['Name'] ?? '');
    const want = Number(str(c, 'RequestedState'));
    const t = TRANSITIONS[want];
    if (!t) return { returnValue: RETURN.InvalidParameter };
    if (!t.from.includes(vm.state)) return { returnValue: RETURN.InvalidState };
    const before = vm.state;
    vm.state = t.via;
    const job = this.jobs.start({
      method: 'RequestStateChange', host: c.host, type: 94, description: `${t.what} Virtual Machine`, steps: 2,
      effect: async () => {
        vm.state = t.to;
      },
    });
    void this.restoreOnFailure(job, () => (vm.state = before));
    return { returnValue: RETURN.JobStarted, job };
  }

  private async restoreOnFailure(job: FakeJob, undo: () => void): Promise<void> {
    while (job.state === 4) await new Promise((r) => setTimeout(r, 5));
    if (job.state !== 7) undo();
  }

  private modifyResources(c: MethodCall): MethodResult {
    const items = (c.args.get('ResourceSettings') ?? []).map((e) => readEmbedded(e.text));
    const changes: Array<() => void> = [];
    for (const it of items) {
      const id = String(it.props['InstanceID'] ?? '');
      const guid = /^Microsoft:([0-9A-F-]{36})\\/i.exec(id)?.[1];
      if (!guid) throw new FakeError(RETURN.InvalidParameter, `The InstanceID "${id}" is not a resource of a virtual machine.`);
      const vm = this.w.vm(guid);
      if (vm.state !== S.Off) throw new FakeError(RETURN.InvalidState, `'${vm.name}' failed to modify device '${it.cls === 'Msvm_ProcessorSettingData' ? 'Processor' : 'Memory'}'. The operation cannot be performed while the virtual machine is in its current state.`);
      const q = Number(it.props['VirtualQuantity']);
      if (!Number.isInteger(q) || q < 1) throw new FakeError(RETURN.InvalidParameter, `VirtualQuantity ${String(it.props['VirtualQuantity'])} is not valid.`);
      if (it.cls === 'Msvm_ProcessorSettingData') changes.push(() => (vm.cpus = q));
      else if (it.cls === 'Msvm_MemorySettingData') changes.push(() => (vm.memMiB = q));
      else throw new FakeError(RETURN.NotSupported, `Changing ${it.cls} is not modelled by the fake.`);
    }
    const job = this.jobs.start({ method: 'ModifyResourceSettings', host: c.host, type: 40, description: 'Modifying resource settings', steps: 1, effect: async () => changes.forEach((f) => f()) });
    return { returnValue: RETURN.JobStarted, job };
  }

  private modifySystem(c: MethodCall): MethodResult {
    const vssd = readEmbedded(str(c, 'SystemSettings') ?? '');
    const id = String(vssd.props['InstanceID'] ?? '').replace(/^Microsoft:/, '');
    const { snap } = this.w.snapOwner(id);
    const name = vssd.props['ElementName'];
    if (typeof name !== 'string' || !name) throw new FakeError(RETURN.InvalidParameter, 'ElementName must not be empty.');
    const job = this.jobs.start({ method: 'ModifySystemSettings', host: c.host, type: 41, description: 'Modifying system settings', steps: 1, effect: async () => void (snap.name = name) });
    return { returnValue: RETURN.JobStarted, job };
  }

  private exportSystem(c: MethodCall): MethodResult {
    const vm = this.vmOf(c, 'ComputerSystem');
    const dir = str(c, 'ExportDirectory') ?? '';
    const settings = readEmbedded(str(c, 'ExportSettingData') ?? '');
    if (!path.isAbsolute(dir)) throw new FakeError(RETURN.InvalidParameter, `The export directory "${dir}" is not an absolute path.`);
    const storage = settings.props['CopyVmStorage'] === 'true';
    const sub = settings.props['CreateVmExportSubdirectory'] !== 'false';
    const root = sub ? path.join(dir, vm.name) : dir;
    const disks = storage ? [...vm.disks] : [];
    let sizes: number[] = [];
    const copied = new Set<number>();
    const job = this.jobs.start({
      method: 'ExportSystemDefinition', host: c.host, type: 91, description: 'Exporting Virtual Machine', steps: 4,
      onStep: async (pct) => {
        if (sizes.length === 0) {
          await mkdir(path.join(root, 'Virtual Hard Disks'), { recursive: true });
          await mkdir(path.join(root, 'Virtual Machines'), { recursive: true });
          sizes = await Promise.all(disks.map(async (d) => (await stat(d.file)).size));
        }
        // The bytes written so far, disk after disk: a job stopped halfway leaves a partial file, as a real export would.
        const total = sizes.reduce((a, b) => a + b, 0) || 1;
        let upto = (total * pct) / 100;
        for (const [i, d] of disks.entries()) {
          const to = path.join(root, 'Virtual Hard Disks', path.basename(d.file));
          if (upto >= sizes[i]!) {
            if (!copied.has(i)) await copyFile(d.file, to);
            copied.add(i);
          } else if (upto > 0) await partialCopy(d.file, to, Math.floor(upto));
          upto -= sizes[i]!;
        }
      },
      effect: async () => {
        for (const [i, d] of disks.entries()) if (!copied.has(i)) await copyFile(d.file, path.join(root, 'Virtual Hard Disks', path.basename(d.file)));
      },
    });
    return { returnValue: RETURN.JobStarted, job };
  }

  private createSnapshot(c: MethodCall): MethodResult {
    const vm = this.vmOf(c, 'AffectedSystem');
    const type = Number(str(c, 'SnapshotType') ?? '2');
    if (type !== 2) throw new FakeError(RETURN.NotSupported, `SnapshotType ${type} is not modelled by the fake (2: full snapshot).`);
    const stamp = new Date().toISOString().replace('T', ' - (').replace(/\..*$/, ')');
    // Hyper-V names a checkpoint "VM - (date time)"; a caller renames it with ModifySystemSettings. An asynchronous
    // CreateSnapshot leaves ResultingSnapshot empty: the new checkpoint is the VM's current one when the job ends.
    const job = this.jobs.start({
      method: 'CreateSnapshot', host: c.host, type: 70, description: 'Creating Checkpoint', steps: 2,
      effect: async () => void (await this.w.snapshot(vm, `${vm.name} - ${stamp}`)),
    });
    return { returnValue: RETURN.JobStarted, job };
  }

  private applySnapshot(c: MethodCall): MethodResult {
    const { vm, snap } = this.snapOf(c, 'Snapshot');
    if (vm.state !== S.Off && vm.state !== S.Saved) return { returnValue: RETURN.InvalidState };
    const job = this.jobs.start({ method: 'ApplySnapshot', host: c.host, type: 71, description: 'Applying Checkpoint', steps: 2, effect: () => this.w.apply(vm, snap) });
    return { returnValue: RETURN.JobStarted, job };
  }

  private destroySnapshot(c: MethodCall): MethodResult {
    const { vm, snap } = this.snapOf(c, 'AffectedSnapshot');
    const job = this.jobs.start({ method: 'DestroySnapshot', host: c.host, type: 72, description: 'Deleting Checkpoint', steps: 2, effect: () => this.w.destroy(vm, snap) });
    return { returnValue: RETURN.JobStarted, job };
  }

  private migrate(c: MethodCall): MethodResult {
    const vm = this.vmOf(c, 'ComputerSystem');
    const dest = str(c, 'DestinationHost') ?? '';
    const target = this.w.hosts.find((h) => h.toLowerCase() === dest.toLowerCase());
    if (!target) throw new FakeError(RETURN.InvalidParameter, `Failed to establish a connection with host '${dest}': No such host is known. (0x80072AF9).`);
    if (target === vm.host) throw new FakeError(RETURN.InvalidParameter, `The virtual machine '${vm.name}' is already on host '${target}'.`);
    const ms = readEmbedded(str(c, 'MigrationSettingData') ?? '<INSTANCE CLASSNAME="Msvm_VirtualSystemMigrationSettingData"/>');
    const type = Number(ms.props['MigrationType'] ?? 32768);
    if (![32768, 32771].includes(type)) throw new FakeError(RETURN.NotSupported, `MigrationType ${type} is not modelled by the fake (32768 virtual system, 32771 with storage).`);
    // The fake's hosts share storage (as with SMB 3 shares): the disks stay where they are, only the VM moves.
    const job = this.jobs.start({ method: 'MigrateVirtualSystemToHost', host: c.host, type: 93, description: 'Migrating Virtual Machine', steps: 5, effect: async () => void (vm.host = target) });
    return { returnValue: RETURN.JobStarted, job };
  }
}

async function partialCopy(from: string, to: string, bytes: number): Promise<void> {
  const src = await open(from, 'r');
  const dst = await open(to, 'w');
  try {
    const buf = Buffer.alloc(Math.min(bytes, 1024 * 1024));
    let pos = 0;
    while (pos < bytes) {
      const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, bytes - pos), pos);
      if (bytesRead === 0) break;
      await dst.write(buf, 0, bytesRead, pos);
      pos += bytesRead;
    }
  } finally {
    await src.close();
    await dst.close();
  }
}
