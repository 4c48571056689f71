/**
 * VM lifecycle: create, start, stop, kill, pause, resume, reboot, suspend,
 * remove; every operation on a VM goes through its job queue, every state
 * change through the StateKeeper, every multi-step operation rolls back.
 */
import { mkdir, rm } from 'node:fs/promises';
import type { Driver, DriverEvent, LaunchPlan, VmInstance } from '../drivers/index.js';
import { PolyvisorError, currentCaller, fail, newUuid, throwIfAborted, timeoutSignal, validateName, type Logger } from '../shared/index.js';
import type { VmSpec } from '../spec/index.js';
import { checkDiskSources, checkLuksImage, prepareDisks, removeCreatedDisks, resolveDiskPaths } from '../storage/index.js';
import type { Store, VmFilter, VmRecord } from '../store/index.js';
import { InstanceRegistry } from './instances.js';
import { KeyedQueue } from './job-queue.js';
import { StateKeeper } from './state-keeper.js';
import { assertAction } from './transitions.js';
import { vmDir } from './vm-paths.js';
import { checkBootFiles } from './boot-files.js';
import { checkPortForwards } from './port-forwards.js';
import { checkHostMemory } from './memory-admission.js';
import { applyLinkStates } from './nic-attachments.js';
import { checkQuota, type QuotaConfig } from './quotas.js';
import { checkForwardPolicy } from './port-forward-policy.js';
import { adoptImportKeys, backupPassphrase, backupPassphrases, checkImportKeys, checkMovedKeys, diskPassphrases, diskSecretFiles, storeMovedKeys, importKeyName, encryptedBackingFiles, encryptedDisks, forgetKeys, imagePassphrases, keyNamesOf, passphraseMaker, writeSecretFiles, type DiskKeyStore } from './disk-keys.js';

export interface VmServiceOptions {
  store: Store;
  driver: Driver;
  /** This host's name; VMs it owns carry it. */
  host: string;
  /** Directory under which each VM gets <id>/. */
  vmsDir: string;
  logger: Logger;
  /** Default seconds a graceful stop waits before forcing (default 60). */
  stopTimeoutSeconds?: number;
  /** RAM the host keeps for itself: a start needing more than MemAvailable minus this is refused (default 256 MiB). */
  memoryReserveBytes?: number;
  /** Where MemAvailable is read (tests give their own). */
  readMeminfo?: () => Promise<string>;
  /** NICs on virtual networks (NetworkService): attached before QEMU starts, detached after it ends. */
  nics?: VmNicHooks;
  /** Role and token quotas checked when an API caller creates or grows a VM (docs/security.md); without it, none. */
  quotas?: QuotaConfig;
  /** The secrets store, for the passphrases of encrypted disks (disk-keys.ts); without it such disks are refused. */
  diskKeys?: DiskKeyStore;
}

/** What the VM lifecycle needs of the virtual networks. */
export interface VmNicHooks {
  /** Before QEMU starts: creates and attaches the taps of the VM's network NICs; returns NIC name → tap. Rolls itself back on failure. */
  attachVm(rec: VmRecord): Promise<Record<string, string>>;
  /** NIC name → the MTU its guest must use (overlay networks); absent or empty: 1500 everywhere. */
  guestMtus?(spec: VmSpec): Promise<Record<string, number>>;
  /** After QEMU ended (or its start failed): removes the taps. Never throws. */
  detachVm(rec: VmRecord): Promise<void>;
  /** The VM was removed: its addresses and taps are free again. */
  forgetVm(vm: string): Promise<void>;
}

/** Cancellation and progress of one operation (the API's operations pass them in). */
export interface OpOptions {
  /** Aborting cancels the operation; a cancelled start leaves the VM stopped with no process. */
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

export interface StopOptions extends OpOptions {
  /** Seconds to wait for the guest to power off before killing it. */
  timeoutSeconds?: number;
  /** Skip the ACPI request and kill at once. */
  force?: boolean;
}

const OP_TIMEOUT_MS = 120_000;
/** Between attempts to record a QEMU exit while the store does not answer. */
const EXIT_RETRY_MS = 1_000;

export class VmService {
  readonly states: StateKeeper;
  private readonly queue = new KeyedQueue();
  private readonly instances: InstanceRegistry;
  /** Why the guest last shut down, to name the reason when its process exits. */
  private readonly shutdownReasons = new Map<string, string>();
  /** Quota checks and the record writes they admit run one at a time, so two creates cannot both fit the last slot. */
  private readonly admission = new KeyedQueue();
  readonly log: Logger;

  constructor(private readonly opts: VmServiceOptions) {
    this.log = opts.logger.child({ component: 'lifecycle' });
    this.states = new StateKeeper(opts.store, this.log);
    this.instances = new InstanceRegistry((vm, inst, e) => this.onDriverEvent(vm, inst, e), this.log);
  }

  list(filter?: VmFilter): Promise<VmRecord[]> {
    return this.opts.store.listVms({ host: this.opts.host, ...filter });
  }

  /** Every host's VMs (a cluster store holds them all; on one host the same as list()). */
  listAll(filter?: VmFilter): Promise<VmRecord[]> {
    return this.opts.store.listVms(filter);
  }

  /** The VM named `name`, or undefined. */
  async find(name: string): Promise<VmRecord | undefined> {
    validateName(name, 'VM name');
    return (await this.opts.store.getVm(name)) ?? undefined;
  }

  async get(name: string): Promise<VmRecord> {
    validateName(name, 'VM name');
    const rec = await this.opts.store.getVm(name);
    if (!rec) fail('VM_NOT_FOUND', `no VM named ${name}`);
    return rec;
  }

  /** The VM's own directory (its managed disks, runtime files, snapshot catalogue). */
  dirOf(rec: Pick<VmRecord, 'id'>): string {
    return vmDir(this.opts.vmsDir, rec.id);
  }

  /** Runtime files of a VM (serial log, console socket…), wherever it is. */
  files(rec: VmRecord) {
    return this.opts.driver.files(vmDir(this.opts.vmsDir, rec.id));
  }

  /**
   * Creates a VM. `fill`, when given, runs after the disks were made and before
   * the VM is recorded (a clone copies data into them): if it fails, nothing
   * of the VM is left.
   */
  async create(spec: VmSpec, fill?: (dir: string) => Promise<void>): Promise<VmRecord> {
    validateName(spec.name, 'VM name');
    const caller = currentCaller();
    return this.queue.run(spec.name, async () => {
      if (await this.opts.store.getVm(spec.name)) fail('VM_EXISTS', `a VM named ${spec.name} already exists`);
      await this.admit(spec); // a clear refusal before any disk is made; checked again when the record is written
      await checkDiskSources(spec);
      await checkBootFiles(spec);
      for (const d of encryptedDisks(spec)) if (d.path !== undefined) await checkLuksImage(d.name, d.path);
      checkImportKeys(this.opts.diskKeys, spec);
      const id = newUuid();
      const dir = vmDir(this.opts.vmsDir, id);
      await mkdir(dir, { recursive: true, mode: 0o750 });
      let created: Awaited<ReturnType<typeof prepareDisks>> = [];
      const keys: string[] = []; // passphrases stored by this create, removed again if it fails
      try {
        created = await prepareDisks(spec, dir, { signal: timeoutSignal(OP_TIMEOUT_MS), passphrase: passphraseMaker(this.opts.diskKeys, id, keys) });
        if (fill) await fill(dir);
        const rec = await this.admission.run('quota', async () => {
          await this.admit(spec);
          return this.opts.store.createVm({
            id, name: spec.name, spec, state: 'created', stateReason: 'created', host: this.opts.host, runtime: null,
            ...(caller ? { owner: { actor: caller.actor, role: caller.role } } : {}),
          });
        });
        await adoptImportKeys(this.opts.diskKeys, id, spec, keys);
        this.log.info({ vm: spec.name, id }, 'vm created');
        this.states.emit('state', { vm: rec.name, id, from: 'created', to: 'created', reason: 'created', at: rec.createdAt });
        return rec;
      } catch (err) {
        await removeCreatedDisks(created).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
        await forgetKeys(this.opts.diskKeys, keys).catch((e: unknown) => this.log.warn({ err: e, vm: spec.name }, 'could not remove the passphrases of a failed create'));
        throw err;
      }
    });
  }

  start(name: string, o: OpOptions = {}): Promise<VmRecord> {
    return this.job(name, async (rec) => {
      assertAction(name, 'start', rec.state);
      return this.launch(rec, 'started', undefined, o.signal);
    }, o.signal);
  }

  stop(name: string, o: StopOptions = {}): Promise<VmRecord> {
    return this.job(name, async (rec) => {
      assertAction(name, 'stop', rec.state);
      const inst = this.requireInstance(rec);
      const before = rec.state;
      rec = await this.states.set(rec, 'stopping', o.force ? 'force stop requested' : 'graceful stop requested');
      const timeoutS = o.timeoutSeconds ?? this.opts.stopTimeoutSeconds ?? 60;
      let reason = 'guest powered off';
      try {
        if (o.force) throw new Error('force');
        if (before === 'paused') await inst.resume(timeoutSignal(10_000, o.signal));
        await inst.powerdown(timeoutSignal(10_000, o.signal));
        await inst.waitExit(timeoutSignal(timeoutS * 1000, o.signal));
      } catch (err) {
        if (o.signal?.aborted) return this.stopCancelled(rec, inst, err);
        reason = o.force ? 'killed (force stop)' : `guest did not power off within ${timeoutS}s; killed`;
        await inst.kill(timeoutSignal(15_000));
      }
      return this.markExited(rec, reason);
    }, o.signal);
  }

  kill(name: string): Promise<VmRecord> {
    return this.job(name, async (rec) => {
      assertAction(name, 'kill', rec.state);
      await this.instances.get(name)?.kill(timeoutSignal(15_000));
      return this.markExited(rec, 'killed by user');
    });
  }

  pause(name: string): Promise<VmRecord> {
    return this.job(name, async (rec) => {
      assertAction(name, 'pause', rec.state);
      await this.requireInstance(rec).pause(timeoutSignal(10_000));
      return this.states.set(rec, 'paused', 'paused by user');
    });
  }

  resume(name: string, o: OpOptions = {}): Promise<VmRecord> {
    return this.job(name, async (rec) => {
      assertAction(name, 'resume', rec.state);
      if (rec.state === 'suspended') return this.launch(rec, 'resumed from disk', this.files(rec).saveFile, o.signal);
      await this.requireInstance(rec).resume(timeoutSignal(10_000, o.signal));
      return this.states.set(rec, 'running', 'resumed by user');
    }, o.signal);
  }

  reboot(name: string, o: OpOptions = {}): Promise<VmRecord> {
    return this.job(name, async (rec) => {
      assertAction(name, 'reboot', rec.state);
      const how = await this.requireInstance(rec).reboot(timeoutSignal(15_000, o.signal));
      this.log.info({ vm: name, how }, 'vm rebooted');
      return this.states.set(rec, 'running', how === 'agent' ? 'rebooted by guest agent' : 'reset by user');
    }, o.signal);
  }

  suspend(name: string, o: OpOptions = {}): Promise<VmRecord> {
    return this.job(name, async (rec) => {
      assertAction(name, 'suspend', rec.state);
      const inst = this.requireInstance(rec);
      const before = rec.state;
      rec = await this.states.set(rec, 'stopping', 'saving state to disk');
      try {
        await inst.saveToDisk(timeoutSignal(OP_TIMEOUT_MS, o.signal), o.onProgress);
      } catch (err) {
        // The driver resumed the guest (or left it paused) and removed its partial file.
        await this.states.set(rec, before, `suspend failed: ${(err as Error).message}`);
        throw err;
      }
      this.instances.remove(name);
      await this.opts.nics?.detachVm(rec);
      return this.states.set(rec, 'suspended', 'suspended to disk', { runtime: null });
    }, o.signal);
  }

  remove(name: string, o: { force?: boolean } = {}): Promise<void> {
    return this.job(name, async (rec) => {
      if (o.force && this.instances.get(name)) {
        await this.instances.get(name)!.kill(timeoutSignal(15_000));
        this.instances.remove(name);
      } else {
        assertAction(name, 'remove', rec.state);
      }
      await this.opts.store.deleteVm(name);
      if (this.opts.nics) {
        await this.opts.nics.detachVm(rec);
        await this.opts.nics.forgetVm(name);
      }
      await rm(vmDir(this.opts.vmsDir, rec.id), { recursive: true, force: true });
      await forgetKeys(this.opts.diskKeys, keyNamesOf(rec.id, rec.spec)); // after the images: a key never goes before its disk
      this.log.info({ vm: name, id: rec.id }, 'vm removed');
      this.states.emit('removed', { vm: name, id: rec.id });
    });
  }

  /**
   * Cluster: the VM moved to another member, whose daemon owns the shared
   * record now. Ends this host's process (stopped after the stream), its
   * taps and its files here; the record stays.
   */
  dropLocalCopy(name: string): Promise<void> {
    validateName(name, 'VM name');
    return this.queue.run(name, async () => {
      const inst = this.instances.get(name);
      if (inst) {
        this.instances.remove(name); // first: its exit must not be taken for the VM's (the record is the new owner's)
        await inst.kill(timeoutSignal(15_000));
      }
      const rec = await this.opts.store.getVm(name);
      if (!rec) return;
      // Only this host's taps go: the NIC allocations are the shared record's, now the new owner's (same MAC and address).
      await this.opts.nics?.detachVm(rec);
      await rm(vmDir(this.opts.vmsDir, rec.id), { recursive: true, force: true });
      await forgetKeys(this.opts.diskKeys, keyNamesOf(rec.id, rec.spec)); // the new owner holds its own copies (a move sends them)
      this.log.info({ vm: name, id: rec.id, owner: rec.host }, 'vm moved to another host: local copy dropped');
      this.states.emit('removed', { vm: name, id: rec.id });
    });
  }

  /**
   * Extension point for other services (disks, snapshots, backups): runs `fn`
   * on the VM's job queue with its freshest record and its live instance
   * (undefined when no QEMU runs), so it never races lifecycle operations.
   * `fn` may return a spec change to persist.
   */
  exclusive<T>(name: string, fn: (rec: VmRecord, instance: VmInstance | undefined) => Promise<T>): Promise<T> {
    return this.job(name, async (rec) => fn(rec, this.instances.get(name)));
  }

  /** The live instance of a VM, for read-only observers (metrics); undefined when no QEMU runs. Never queued. */
  liveInstance(name: string): VmInstance | undefined {
    return this.instances.get(name);
  }

  /**
   * Whether the API caller in effect (none: the daemon's own work) may have
   * `spec` as a new VM, or as `replacing`'s new spec: its port forwards
   * (port-forward-policy.ts) and its role's and token's quotas (quotas.ts).
   * Throws PORT_FORWARD_NOT_ALLOWED or QUOTA_EXCEEDED.
   */
  async admit(spec: VmSpec, replacing?: VmRecord): Promise<void> {
    const caller = currentCaller();
    checkForwardPolicy(spec, caller, replacing?.spec);
    if (!this.opts.quotas || !caller) return;
    checkQuota({ caller, quotas: this.opts.quotas, vms: await this.opts.store.listVms(), spec, ...(replacing ? { replacing } : {}) });
  }

  /** saveSpec() of a spec the caller chose (an edit, a resize): admitted first (admit()), in step with other admissions. */
  saveAdmittedSpec(rec: VmRecord, spec: VmSpec): Promise<VmRecord> {
    return this.admission.run('quota', async () => {
      await this.admit(spec, rec);
      return this.saveSpec(rec, spec);
    });
  }

  /** Persists a new spec for a VM (inside exclusive(), after the change was applied). */
  async saveSpec(rec: VmRecord, spec: VmSpec): Promise<VmRecord> {
    return this.opts.store.updateVm(rec.name, { spec });
  }

  /** Re-adopts every VM this host owns after a daemon (re)start. */
  /**
   * Cluster HA: makes this host the owner of a VM whose host was lost, then
   * starts it here. `generation` is the record's generation the HA manager
   * decided on: if the record changed since, VM_BUSY and nothing happens. A VM
   * this host already took over (a retry after a crash) is just started.
   */
  async takeOverAndStart(name: string, from: string, generation: number, o: OpOptions = {}): Promise<VmRecord> {
    const reason = `HA: restarted on ${this.opts.host} after host ${from} was lost`;
    return this.job(name, async (rec) => {
      if (rec.host !== this.opts.host) rec = await this.states.takeOver(rec, this.opts.host, reason, generation);
      else if (rec.state !== 'stopped') return rec;
      return this.launch(rec, reason, undefined, o.signal);
    }, o.signal);
  }

  async reconcile(): Promise<{ adopted: string[]; stopped: string[] }> {
    const adopted: string[] = [];
    const stopped: string[] = [];
    const active = new Set(['starting', 'running', 'paused', 'stopping', 'migrating']);
    for (const rec of await this.list()) {
      if (!active.has(rec.state)) continue;
      await this.job(rec.name, async (cur) => {
        const res = await this.opts.driver.adopt(this.plan(cur), timeoutSignal(15_000));
        if (!res.ok) {
          stopped.push(cur.name);
          await this.opts.nics?.detachVm(cur);
          return this.states.set(cur, 'stopped', `QEMU exited while the daemon was down (${res.reason})`, { runtime: null });
        }
        this.instances.add(cur.name, res.instance);
        adopted.push(cur.name);
        const status = await res.instance.status(timeoutSignal(10_000));
        // A move whose stream completed before the restart leaves the source stopped (post-migrate) until it is
        // settled with the target: it stays `migrating`, so nothing resumes this copy meanwhile.
        if (cur.state === 'migrating' && status === 'other') return this.states.set(cur, 'migrating', 're-adopted after daemon restart; its move is settled next', { runtime: res.instance.info });
        const to = status === 'paused' ? 'paused' : 'running';
        return this.states.set(cur, to, `re-adopted after daemon restart`, { runtime: res.instance.info });
      });
    }
    this.log.info({ adopted, stopped }, 'reconcile finished');
    return { adopted, stopped };
  }

  /** Daemon shutdown: wait for running jobs, drop monitors, leave VMs running. */
  async close(): Promise<void> {
    await this.queue.idle();
    this.instances.detachAll();
  }

  private async launch(rec: VmRecord, reason: string, restoreFrom: string | undefined, signal?: AbortSignal): Promise<VmRecord> {
    await checkPortForwards(rec.spec, await this.list()); // before anything changes: a held port leaves the VM as it was
    await checkHostMemory(rec.spec, this.opts.memoryReserveBytes ?? 256 * 1024 ** 2, this.opts.readMeminfo);
    rec = await this.states.set(rec, 'starting', restoreFrom ? 'restoring from disk' : 'starting');
    let inst: VmInstance | undefined;
    try {
      if (!this.opts.nics && rec.spec.networks.some((n) => n.type === 'network')) {
        fail('NETWORK_UNAVAILABLE', `VM ${rec.name} has NICs on virtual networks, and this daemon runs without them`);
      }
      const taps = this.opts.nics ? await this.opts.nics.attachVm(rec) : {};
      const nicMtu = (await this.opts.nics?.guestMtus?.(rec.spec)) ?? {};
      const plan = this.plan(rec);
      const dropSecretFiles = await writeSecretFiles(this.opts.diskKeys, rec, rec.spec, plan.dir);
      try {
        inst = await this.opts.driver.start({ ...plan, taps, nicMtu, ...(restoreFrom ? { restoreFrom } : {}) }, timeoutSignal(OP_TIMEOUT_MS, signal));
      } finally {
        await dropSecretFiles(); // QEMU read them when it created its secret objects
      }
      this.instances.add(rec.name, inst);
      await applyLinkStates(rec.spec, inst, timeoutSignal(15_000, signal));
      throwIfAborted(signal, `start of VM ${rec.name}`); // cancelled just as QEMU came up: roll back
      return await this.states.set(rec, 'running', reason, { runtime: inst.info });
    } catch (err) {
      if (inst) {
        this.instances.remove(rec.name);
        await inst.kill(timeoutSignal(15_000)).catch(() => undefined);
      }
      await this.opts.nics?.detachVm(rec);
      const back = restoreFrom ? 'suspended' : 'stopped';
      await this.states.set(rec, back, `start failed: ${(err as Error).message}`, { runtime: null });
      throw err;
    }
  }

  /** Inside exclusive(): the VM's live process is now `instance` (live migration hands it over; the old one is detached). */
  replaceInstance(name: string, instance: VmInstance): void {
    this.instances.add(name, instance);
  }

  /** Disk name → passphrase for backups of each encrypted disk (the disk's, kept also as backup.<id>.<disk>; never logged). */
  backupPassphrases(rec: Pick<VmRecord, 'id' | 'name' | 'spec'>): Promise<Record<string, string>> {
    return backupPassphrases(this.opts.diskKeys, rec);
  }

  /** The passphrase the backups of an encrypted disk are under. */
  backupPassphrase(rec: Pick<VmRecord, 'id' | 'name'>, disk: string): Promise<string> {
    return backupPassphrase(this.opts.diskKeys, rec, disk);
  }

  /** Stores the passphrase of an encrypted image about to become disk `disk` of a new VM `vm` (a restore): the create adopts it. */
  async setImportKey(vm: string, disk: string, value: string): Promise<void> {
    if (!this.opts.diskKeys) fail('ENCRYPTED_DISK_UNSUPPORTED', `disk ${disk} is encrypted, and this daemon runs without a secrets store`);
    await this.opts.diskKeys.set(validateName(importKeyName(vm, disk), 'secret name'), value);
  }

  /** Image path → passphrase of each encrypted disk of a VM on this host, for qemu-img on its images (never logged). */
  imagePassphrases(rec: Pick<VmRecord, 'id' | 'name' | 'spec'>): Promise<Map<string, string>> {
    return imagePassphrases(this.opts.diskKeys, rec, this.dirOf(rec));
  }

  /** Disk name → passphrase of each encrypted disk (a move to another host sends them; never logged). */
  diskPassphrases(rec: Pick<VmRecord, 'id' | 'name' | 'spec'>): Promise<Record<string, string>> {
    return diskPassphrases(this.opts.diskKeys, rec);
  }

  /** Target of a move: DISK_KEY_MISSING / INVALID_BODY unless `given` holds exactly the passphrases of the VM's encrypted disks. */
  checkMovedKeys(vm: { name: string; spec: VmRecord['spec'] }, given: Readonly<Record<string, string>> | undefined): void {
    checkMovedKeys(this.opts.diskKeys, vm, given);
  }

  /** Target of a move: stores the passphrases it brought under the VM's names; returns the names (forgetDiskKeys undoes). */
  storeMovedKeys(vm: Pick<VmRecord, 'id' | 'name' | 'spec'>, given: Readonly<Record<string, string>> | undefined): Promise<string[]> {
    return storeMovedKeys(this.opts.diskKeys, vm, given);
  }

  /** Removes the named disk passphrases (absent ones are fine). */
  forgetDiskKeys(names: readonly string[]): Promise<void> {
    return forgetKeys(this.opts.diskKeys, names);
  }

  /** The disk-passphrase names a VM's encrypted disks have on this host. */
  diskKeyNames(rec: Pick<VmRecord, 'id' | 'spec'>): string[] {
    return keyNamesOf(rec.id, rec.spec);
  }

  /**
   * Writes QEMU's secret files for a second QEMU of this VM (a move's target
   * process) before it starts; returns the function that removes them again,
   * to call once that QEMU has started or failed to.
   */
  writeSecretFiles(rec: Pick<VmRecord, 'id' | 'name' | 'spec'>): Promise<() => Promise<void>> {
    return writeSecretFiles(this.opts.diskKeys, rec, rec.spec, this.dirOf(rec));
  }

  /** The LaunchPlan of a VM on this host (live migration starts a second process from it). */
  plan(rec: VmRecord): LaunchPlan {
    const dir = vmDir(this.opts.vmsDir, rec.id);
    const diskSecrets = diskSecretFiles(rec.spec, dir);
    const diskPaths = resolveDiskPaths(rec.spec, dir);
    const diskBackingFiles = encryptedBackingFiles(rec.spec, diskPaths);
    return {
      id: rec.id, spec: rec.spec, dir, diskPaths,
      ...(Object.keys(diskSecrets).length ? { diskSecrets } : {}), ...(Object.keys(diskBackingFiles).length ? { diskBackingFiles } : {}),
    };
  }

  private requireInstance(rec: VmRecord): VmInstance {
    const inst = this.instances.get(rec.name);
    if (!inst) fail('QEMU_GONE', `VM ${rec.name} has no running QEMU process`);
    return inst;
  }

  private async markExited(rec: VmRecord, reason: string): Promise<VmRecord> {
    this.instances.remove(rec.name);
    this.shutdownReasons.delete(rec.name);
    await this.opts.nics?.detachVm(rec);
    return this.states.set(rec, 'stopped', reason, { runtime: null });
  }

  /** A stop cancelled while waiting for the guest: it keeps running (it may still act on the power button). */
  private async stopCancelled(rec: VmRecord, inst: VmInstance, err: unknown): Promise<never> {
    const status = await inst.status(timeoutSignal(5_000)).catch(() => 'other');
    await this.states.set(rec, status === 'paused' ? 'paused' : 'running', 'stop cancelled');
    throw err;
  }

  /** Runs `fn` in the VM's queue with its freshest record; a job cancelled while queued never runs. */
  private job<T>(name: string, fn: (rec: VmRecord) => Promise<T>, signal?: AbortSignal): Promise<T> {
    validateName(name, 'VM name');
    return this.queue.run(name, async () => {
      throwIfAborted(signal, `operation on VM ${name}`);
      return fn(await this.get(name));
    });
  }

  /**
   * `retry`: this QEMU's exit could not be recorded because the store did not answer (a cluster store without quorum
   * or out of reach); it is tried again every EXIT_RETRY_MS until the store answers, so the record does not stay
   * `running` with no QEMU. An HA VM too: its QEMU may have died on its own while the host kept its lease, and then
   * nothing else would record it. One its watchdog fenced is restarted by the cluster's rejoin either way (docs/ha.md:
   * a record still `running` without its QEMU, or `stopped` by this exit, of a VM the watchdog guarded); a rejoin that
   * restarted it first leaves this retry stale (a newer instance).
   */
  private onDriverEvent(vm: string, inst: VmInstance, e: DriverEvent, retry = false): void {
    if (e.type === 'shutdown') {
      this.shutdownReasons.set(vm, e.guest ? 'guest powered off' : `QEMU shut down (${e.reason})`);
      return;
    }
    if (e.type !== 'paused' && e.type !== 'resumed' && e.type !== 'exited') return;
    void this.job(vm, async (rec) => {
      if (this.instances.get(vm) !== inst) return; // a newer instance or none: stale event
      if (rec.host !== this.opts.host) return; // the VM moved to another cluster member: this process's events are not the VM's
      if (e.type === 'paused' && rec.state === 'running') await this.states.set(rec, 'paused', `paused (${e.reason})`);
      if (e.type === 'resumed' && rec.state === 'paused') await this.states.set(rec, 'running', 'resumed');
      if (e.type === 'exited' && ['running', 'paused', 'starting'].includes(rec.state)) {
        await this.markExited(rec, this.shutdownReasons.get(vm) ?? `QEMU exited (${e.reason})`);
      }
    }).catch((err: unknown) => {
      if (e.type === 'exited' && err instanceof PolyvisorError && err.code === 'STORE_UNAVAILABLE' && this.instances.get(vm) === inst) {
        if (!retry) this.log.warn({ vm, err }, 'QEMU exited while the store does not answer: recording it when the store answers again');
        setTimeout(() => this.onDriverEvent(vm, inst, e, true), EXIT_RETRY_MS).unref();
        return;
      }
      this.log.warn({ vm, err }, 'could not apply driver event');
    });
  }
}
