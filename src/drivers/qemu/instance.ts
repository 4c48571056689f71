/** A running QEMU process of one VM, driven through QMP (and the guest agent for reboots). */
import { setGuestClockSoon } from './guest-clock.js';
import { readGuestInfo } from './guest-info.js';
import { runGuestExec } from './guest-exec.js';
import { GuestAgentClient, type QmpClient } from '../../qmp/index.js';
import { sleep, timeoutSignal, type Logger } from '../../shared/index.js';
import type { ExitStatus } from './spawn-detached.js';
import type { DriverEvent, LaunchPlan, RunStatus, RuntimeFiles, RuntimeInfo, VmInstance } from '../driver.js';
import type { MigrateOutOptions, MigrationSource, MigrationStats, MigrationTuning } from '../migratable.js';
import type { DiskHotplug, HotplugDisk } from '../disk-hotplug.js';
import type { HotplugNic, NicHotplug } from '../nic-hotplug.js';
import type { HotplugLayout, LiveResources, ResourceHotplug } from '../resource-hotplug.js';
import { addMemory, readHotplugLayout, readResources, setBalloon, setCpus } from './cpu-memory-hotplug.js';
import type { ExternalOverlay, ExternalSnapshottable, FreezeResult, LoadSnapshotResult, Snapshottable, StreamRequest, CommitRequest } from '../snapshots.js';
import type { BackupJob, Backupable, DiskBitmap } from '../backups.js';
import { backupDisks, listBitmaps, removeBitmap } from './backup-jobs.js';
import { freezeGuest, thawGuest } from './snapshot-freeze.js';
import { deleteSnapshot, diskSnapshot, loadSnapshot, saveSnapshot } from './snapshot-jobs.js';
import { activeFile, externalSnapshot, streamDisk } from './snapshot-external.js';
import type { VmFileGrants } from './vm-files-grant.js';
import { commitActive } from './block-commit.js';
import { mapQmpEvent, PAUSED_STATES } from './events.js';
import { hotplugDisk, hotUnplugDisk } from './hotplug.js';
import { hotplugNic, hotUnplugNic, setNicLink } from './nic-hotplug.js';
import { migrateOut, startPostcopy, undoOutgoing } from './migrate-source.js';
import { terminate, waitGone } from './process.js';
import { saveState } from './save.js';
import { collectQemuStats } from './stats.js';
import { migrateProcessPages, readNumaLocality } from './numa-locality.js';
import type { NumaLocality, NumaPageMover } from '../numa.js';
import { GuestNicStats } from './nic-stats.js';
import { GuestBalloon } from './balloon.js';
import type { StatsSource, VmStats } from '../stats.js';
import type { GuestInfo, GuestInfoSource } from '../guest-info.js';
import type { GuestExec, GuestExecResult } from '../guest-exec.js';

export interface InstanceInit {
  plan: LaunchPlan;
  files: RuntimeFiles;
  pid: number;
  qmp: QmpClient;
  info: RuntimeInfo;
  logger: Logger;
  /** The process's exit status, when this daemon started it (after a restart it is not our child). */
  exited?: Promise<ExitStatus>;
  /** QEMU runs as the VM's own user: files it opens later (overlays, backup targets, hot-added disks) are granted first. */
  grants?: VmFileGrants;
  /** Under KVM: called when the vCPUs stopped with run state internal-error (KVM could not run the guest; accel.ts remembers it). */
  onKvmInternalError?: (why: string) => void;
}

/** The pause reason of a VM whose vCPUs KVM stopped with an internal error. */
export const KVM_INTERNAL_ERROR_REASON = 'KVM internal error: the host\'s KVM could not run this guest (QEMU\'s log names the instruction); its next start uses TCG';

/** How long reboot() gives the guest agent to answer before falling back to a hard reset. */
export const AGENT_REBOOT_TIMEOUT_MS = 2_000;
/** How long after the monitor closed we wait for the process to disappear before giving up on it. */
const EXIT_WATCH_MS = 60_000;

export class QemuInstance implements VmInstance, MigrationSource, DiskHotplug, NicHotplug, ResourceHotplug, StatsSource, NumaPageMover, Snapshottable, ExternalSnapshottable, Backupable, GuestInfoSource, GuestExec {
  readonly info: RuntimeInfo;
  readonly files: RuntimeFiles;
  private readonly plan: LaunchPlan;
  private readonly qmp: QmpClient;
  private readonly log: Logger;
  private readonly listeners = new Set<(e: DriverEvent) => void>();
  private nicStats: GuestNicStats | undefined;
  private readonly balloon: GuestBalloon;
  private detached = false;
  private nextPauseReason: string | undefined;
  private exitReason: string | undefined;
  private readonly exited: Promise<unknown> | undefined;
  private ioError = false;
  private readonly grants: VmFileGrants | undefined;

  constructor(init: InstanceInit) {
    this.info = init.info;
    this.files = init.files;
    this.plan = init.plan;
    this.qmp = init.qmp;
    this.log = init.logger;
    this.grants = init.grants;
    this.balloon = new GuestBalloon(init.qmp);
    void this.balloon.enable(); // started, adopted or received: the guest reports from now on (read() retries if this failed)
    this.exited = init.exited?.then((e) => {
      if (e.signal === null) return;
      // QEMU's seccomp filter kills it with SIGSYS on a forbidden call (fork, exec, setuid...).
      const why = e.signal === 'SIGSYS' ? 'QEMU was killed by SIGSYS: it made a system call its seccomp sandbox forbids' : `QEMU was killed by ${e.signal}`;
      this.exitReason ??= why;
      this.log.warn({ pid: this.info.pid, signal: e.signal }, why);
    });
    this.qmp.on('event', (e) => {
      if (e.event === 'STOP' && this.info.accel === 'kvm') void this.checkKvmInternalError(init.onKvmInternalError);
      if (e.event === 'BLOCK_IO_ERROR') this.ioError = true;
      if (e.event === 'SHUTDOWN') this.exitReason ??= (e.data as { reason?: string }).reason;
      const mapped = mapQmpEvent(e, () => this.takePauseReason());
      if (mapped?.type === 'resumed') this.ioError = false;
      if (mapped) this.emit(mapped);
    });
    this.qmp.on('close', (info) => {
      if (!info.byClient && !this.detached) void this.watchExit();
    });
  }

  /**
   * A STOP under KVM: when QEMU says the run state is internal-error, KVM
   * stopped the vCPUs (e.g. nested KVM on shadow paging failing to emulate a
   * locked instruction on a page table, seen on this project's machines). The
   * VM stays paused with a reason saying so, and the driver is told.
   */
  private async checkKvmInternalError(report: ((why: string) => void) | undefined): Promise<void> {
    const r = await this.qmp.execute<{ status: string }>('query-status', undefined, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    if (r?.status !== 'internal-error') return;
    this.log.error({ pid: this.info.pid }, KVM_INTERNAL_ERROR_REASON);
    this.emit({ type: 'paused', reason: KVM_INTERNAL_ERROR_REASON });
    report?.(KVM_INTERNAL_ERROR_REASON);
  }

  async status(signal: AbortSignal): Promise<RunStatus> {
    const { status } = await this.qmp.execute<{ status: string }>('query-status', undefined, { signal });
    if (status === 'running') return 'running';
    if (status === 'shutdown') return 'shutdown';
    return PAUSED_STATES.has(status) ? 'paused' : 'other';
  }

  onEvent(listener: (e: DriverEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  detach(): void {
    this.detached = true;
    this.qmp.close();
  }

  async pause(signal: AbortSignal): Promise<void> {
    this.nextPauseReason = 'pause requested';
    await this.qmp.execute('stop', undefined, { signal });
  }

  async resume(signal: AbortSignal): Promise<void> {
    await this.qmp.execute('cont', undefined, { signal });
    this.setClockSoon('resumed');
  }

  /** What the guest says about itself through its agent (GuestInfoSource). */
  guestInfo(signal: AbortSignal): Promise<GuestInfo> {
    return readGuestInfo(this.files.agentSocket, this.plan.spec.agent.enabled, signal);
  }

  /** Runs an argv in the guest through its agent (GuestExec). */
  guestExec(argv: readonly string[], signal: AbortSignal): Promise<GuestExecResult> {
    return runGuestExec(this.files.agentSocket, this.plan.spec.agent.enabled, argv, signal);
  }

  /** Puts the guest's clock right in the background after it stood still (docs/guest.md). */
  setClockSoon(why: string): void {
    setGuestClockSoon({ agentEnabled: this.plan.spec.agent.enabled, agentSocket: this.files.agentSocket, log: this.log }, why);
  }

  async powerdown(signal: AbortSignal): Promise<void> {
    await this.qmp.execute('system_powerdown', undefined, { signal });
  }

  async reboot(signal: AbortSignal): Promise<'agent' | 'reset'> {
    if (this.plan.spec.agent.enabled) {
      let agent: GuestAgentClient | undefined;
      try {
        agent = await GuestAgentClient.connect(this.files.agentSocket, { signal, timeoutMs: AGENT_REBOOT_TIMEOUT_MS });
        // guest-shutdown sends no reply on success.
        await agent.execute('guest-shutdown', { mode: 'reboot' }, { signal, noReply: true });
        return 'agent';
      } catch (err) {
        if (signal.aborted) throw err;
        this.log.info({ err: (err as Error).message }, 'guest agent did not take the reboot; resetting');
      } finally {
        agent?.close();
      }
    }
    await this.qmp.execute('system_reset', undefined, { signal });
    return 'reset';
  }

  async kill(signal: AbortSignal): Promise<void> {
    this.exitReason ??= 'killed';
    await terminate(this.info.pid, this.plan.id, signal);
  }

  waitExit(signal: AbortSignal): Promise<void> {
    return waitGone(this.info.pid, this.plan.id, signal, 100);
  }

  saveToDisk(signal: AbortSignal, onProgress?: (fraction: number) => void): Promise<void> {
    return saveState({
      qmp: this.qmp, files: this.files, dir: this.plan.dir, pid: this.info.pid, vmId: this.plan.id, logger: this.log,
      ...(this.grants ? { grantSocket: (p: string) => this.grants!.grant(p, 'rw') } : {}),
      expect: (what, reason) => {
        if (what === 'pause') this.nextPauseReason = reason;
        else this.exitReason = reason;
      },
    }, signal, onProgress);
  }

  async migrateOut(uri: string, tuning: MigrationTuning, o: MigrateOutOptions): Promise<MigrationStats> {
    if (o.tls) await this.grants?.ownTree(o.tls.dir); // the move's client certificate, made by the daemon after QEMU started
    return migrateOut({ qmp: this.qmp, logger: this.log, expectPause: (r) => (this.nextPauseReason = r) }, uri, tuning, o);
  }

  startPostcopy(signal: AbortSignal): Promise<void> {
    return startPostcopy(this.qmp, signal);
  }

  undoOutgoing(signal: AbortSignal): Promise<void> {
    return undoOutgoing(this.qmp, signal);
  }

  async attachDisk(disk: HotplugDisk, signal: AbortSignal): Promise<void> {
    await this.grants?.grant(disk.path, disk.readOnly ? 'ro' : 'rw');
    if (!disk.readOnly) await this.grants?.grantBackingChain(disk.path);
    return hotplugDisk(this.qmp, this.plan.spec.machine.type, disk, signal);
  }

  detachDisk(name: string, signal: AbortSignal): Promise<void> {
    return hotUnplugDisk(this.qmp, name, signal);
  }

  readResources(signal: AbortSignal): Promise<LiveResources> { return readResources(this.qmp, signal); }
  readHotplugLayout(signal: AbortSignal): Promise<HotplugLayout> { return readHotplugLayout(this.qmp, signal); }
  setCpus(count: number, signal: AbortSignal): Promise<void> { return setCpus(this.qmp, count, signal); }
  addMemory(bytes: number, signal: AbortSignal): Promise<void> { return addMemory(this.qmp, this.plan.spec, bytes, signal); }
  setBalloon(bytes: number, signal: AbortSignal): Promise<number> { return setBalloon(this.qmp, bytes, signal); }

  attachNic(nic: HotplugNic, signal: AbortSignal): Promise<void> {
    return hotplugNic(this.qmp, this.plan.spec.machine.type, nic, signal);
  }

  detachNic(name: string, signal: AbortSignal): Promise<void> {
    return hotUnplugNic(this.qmp, name, signal);
  }

  setNicLink(name: string, up: boolean, signal: AbortSignal): Promise<void> {
    return setNicLink(this.qmp, name, up, signal);
  }

  stats(signal: AbortSignal): Promise<VmStats> {
    this.nicStats ??= new GuestNicStats(this.files.agentSocket, this.plan.spec, this.plan.id);
    const numa = (): Promise<NumaLocality | null> => readNumaLocality(this.info.pid, this.plan.spec).catch(() => null);
    return collectQemuStats(this.qmp, this.info.pid, this.plan.spec, signal, { nics: this.nicStats, balloon: this.balloon, numa });
  }

  /** Moves this QEMU's pages on host nodes `from` to `to` (numactl's migratepages; the NUMA balancer's action). */
  movePages(from: readonly number[], to: readonly number[], signal: AbortSignal): Promise<void> {
    return migrateProcessPages(this.info.pid, from, to, signal);
  }

  saveSnapshot(tag: string, disks: readonly string[], signal: AbortSignal): Promise<void> { return saveSnapshot(this.qmp, tag, disks, signal, this.plan.spec.memory); }
  loadSnapshot(tag: string, disks: readonly string[], signal: AbortSignal): Promise<LoadSnapshotResult> { return loadSnapshot(this.qmp, tag, disks, signal, this.plan.spec.memory); }
  deleteSnapshot(tag: string, disks: readonly string[], signal: AbortSignal): Promise<void> { return deleteSnapshot(this.qmp, tag, disks, signal); }
  diskSnapshot(tag: string, disks: readonly string[], signal: AbortSignal): Promise<void> { return diskSnapshot(this.qmp, tag, disks, signal); }
  freezeFilesystems(signal: AbortSignal): Promise<FreezeResult> {
    if (!this.plan.spec.agent.enabled) return Promise.resolve({ answered: false, frozen: 0, error: 'the VM has no guest agent (agent.enabled is false)' });
    return freezeGuest(this.files.agentSocket, signal, this.log);
  }
  async thawFilesystems(signal: AbortSignal): Promise<void> { await thawGuest(this.files.agentSocket, signal, this.log); }
  async externalSnapshot(overlays: readonly ExternalOverlay[], signal: AbortSignal): Promise<void> {
    for (const o of overlays) await this.grants?.grant(o.file, 'rw');
    return externalSnapshot(this.qmp, overlays, signal);
  }
  activeFile(disk: string, signal: AbortSignal): Promise<string> { return activeFile(this.qmp, disk, signal); }
  streamDisk(r: StreamRequest, signal: AbortSignal): Promise<void> { return streamDisk(this.qmp, r, signal); }
  commitActive(r: CommitRequest, signal: AbortSignal): Promise<void> { return commitActive(this.qmp, r, signal); }

  bitmaps(disks: readonly string[], signal: AbortSignal): Promise<Record<string, DiskBitmap[]>> { return listBitmaps(this.qmp, disks, signal); }
  async backupDisks(job: BackupJob, signal: AbortSignal): Promise<void> {
    for (const t of Object.values(job.targets)) await this.grants?.grant(t, 'rw');
    return backupDisks(this.qmp, job, signal);
  }
  removeBitmap(disk: string, name: string, signal: AbortSignal): Promise<void> { return removeBitmap(this.qmp, disk, name, signal); }

  private takePauseReason(): string {
    const r = this.nextPauseReason ?? (this.ioError ? 'disk I/O error' : 'stopped outside Polyvisor');
    this.nextPauseReason = undefined;
    return r;
  }

  /** The monitor closed on its own: report `exited` once the process is gone. */
  private async watchExit(): Promise<void> {
    try {
      await waitGone(this.info.pid, this.plan.id, timeoutSignal(EXIT_WATCH_MS), 50);
    } catch {
      this.log.warn({ pid: this.info.pid }, 'QEMU monitor closed but the process is still running');
      return;
    }
    // Our child: its exit status (a signal) names the cause; give the exit event a moment to arrive.
    if (this.exited) await Promise.race([this.exited, sleep(500)]);
    if (!this.detached) this.emit({ type: 'exited', reason: this.exitReason ?? 'QEMU ended without a shutdown event (crashed or killed)' });
  }

  private emit(e: DriverEvent): void {
    if (this.detached) return;
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.log.warn({ err, event: e }, 'driver event listener threw');
      }
    }
  }
}
