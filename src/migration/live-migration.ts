/**
 * Same-host live migration of a VM between two QEMU processes, run on the
 * VM's job queue (VmService.exclusive) so nothing else touches it meanwhile:
 *
 *   running|paused → migrating → prepare target → migrate → target loaded
 *   → stop the source process → target takes over the VM's paths → running|paused
 *
 * Revert stack until the switch-over: the target is killed and its files
 * removed, the source keeps running, the state goes back. A failure of the
 * target (killed, crashed) aborts the source's migration at once.
 */
import {
  canMigrateIn, canMigrateOut, type Driver, type IncomingMigration, type MigrationStats, type VmInstance,
} from '../drivers/index.js';
import { type NetworkService, type VmService } from '../lifecycle/index.js';
import { fail, isPolyvisorError, PolyvisorError, sleep, timeoutSignal, type Logger } from '../shared/index.js';
import type { VmRecord } from '../store/index.js';
import { ActiveMigration, ActiveMigrations, type MigrationStatusView } from './active.js';
import type { MigrationResult, ProgressListener } from './result.js';
import type { MigrateOptions } from './options.js';
import { choosePolicy, type MigrationPlan } from './policy.js';
import { steering } from './steer.js';
import { checkMigrationSafety } from './safety.js';
import { refuseNetworkNics } from './network-nics.js';
import { moveToHost, type HostMoveResult } from './host-migration.js';
import { hotplugLayoutOf } from './hotplug-layout.js';
import type { PeerFactory } from './peer.js';

export interface MigrationServiceOptions {
  vms: VmService;
  driver: Driver;
  logger: Logger;
  /** This host's name (host-to-host moves name it to the target). */
  host?: string;
  /** How to reach another daemon (host-to-host moves); absent: same-host moves only. */
  peers?: PeerFactory;
  /** Virtual networks: a move to another host sends each NIC's address along (network-nics.ts). */
  networks?: NetworkService;
}

export type { MigrationResult, ProgressListener } from './result.js';

export class MigrationService {
  private readonly active = new ActiveMigrations();
  private readonly log: Logger;
  private readonly finished = new Set<(r: MigrationResult | HostMoveResult) => void>();

  constructor(private readonly o: MigrationServiceOptions) {
    this.log = o.logger.child({ component: 'migration' });
  }

  /** Throws VM_NOT_FOUND for an unknown VM (an async request answers 404 at once). */
  async vmExists(vm: string): Promise<void> {
    await this.o.vms.get(vm);
  }

  status(vm: string): MigrationStatusView | undefined {
    return this.active.get(vm)?.view();
  }

  cancel(vm: string): MigrationStatusView {
    return this.active.cancel(vm);
  }

  requestPostcopy(vm: string): MigrationStatusView {
    return this.active.requestPostcopy(vm);
  }

  /**
   * Moves VM `name` live into a new QEMU process on this host, or with
   * `opts.target` to another daemon (live, or offline when it is stopped).
   * Aborting `cancel` (an API operation's cancel) rolls back like migrate-cancel.
   */
  /** Calls `listener` with the result of every move that succeeded (metrics); returns the unsubscribe. */
  onFinished(listener: (r: MigrationResult | HostMoveResult) => void): () => void {
    this.finished.add(listener);
    return () => this.finished.delete(listener);
  }

  async migrate(name: string, opts: MigrateOptions = {}, onProgress?: ProgressListener, cancel?: AbortSignal): Promise<MigrationResult | HostMoveResult> {
    const r = await this.move(name, opts, onProgress, cancel);
    for (const l of this.finished) l(r);
    return r;
  }

  private async move(name: string, opts: MigrateOptions, onProgress?: ProgressListener, cancel?: AbortSignal): Promise<MigrationResult | HostMoveResult> {
    const driver = this.o.driver;
    if (opts.tls && !opts.target) fail('INVALID_ARGUMENT', 'tls applies to moves to another host (give target); a move on this host never leaves it');
    if ((opts.diskMirror || opts.mirrorStallSeconds || opts.diskBandwidthMiBps) && !opts.target) {
      fail('INVALID_ARGUMENT', 'diskMirror, mirrorStallSeconds and diskBandwidthMiBps apply to moves to another host (give target); a move on this host shares its disks');
    }
    if (opts.target && !this.o.peers) fail('MIGRATION_FAILED', 'this daemon was started without host-to-host migration');
    const rec0 = await this.o.vms.get(name); // a VM that does not exist is a 404, whatever the driver
    if (!opts.target) refuseNetworkNics(rec0); // host to host: the target plumbs the NICs (network-nics.ts)
    if (!canMigrateIn(driver)) fail('MIGRATION_FAILED', `the ${driver.name} driver cannot receive live migrations`);
    const plan = choosePolicy(opts, { transport: opts.target ? 'tcp' : 'unix', memoryBytes: rec0.spec.memory });
    const m = new ActiveMigration(name, plan.postcopy, plan.explanation);
    this.active.add(m);
    const onCancel = (): void => m.controller.abort(cancel?.reason);
    cancel?.addEventListener('abort', onCancel, { once: true });
    if (cancel?.aborted) onCancel();
    const signal = timeoutSignal(plan.timeoutMs, m.controller.signal);
    try {
      if (opts.target) {
        m.target = opts.target.url;
        const peer = this.o.peers!(opts.target);
        return await moveToHost({ vms: this.o.vms, driver, logger: this.log, host: this.o.host ?? 'localhost', peer, target: opts.target, ...(this.o.networks ? { networks: this.o.networks } : {}) }, name, {
          m, plan, opts, signal, ...(onProgress ? { onProgress } : {}),
        });
      }
      return await this.o.vms.exclusive(name, async (rec, source) => {
        if (rec.state !== 'running' && rec.state !== 'paused') {
          fail('INVALID_TRANSITION', `cannot live-migrate VM ${name} while it is ${rec.state}; it must be running or paused`);
        }
        if (!source) fail('QEMU_GONE', `VM ${name} has no running QEMU process`);
        if (!canMigrateOut(source)) fail('MIGRATION_FAILED', `the instance of VM ${name} cannot migrate`);
        const warnings = checkMigrationSafety(
          { vm: name, accel: source.info.accel, qemuVersion: source.info.qemuVersion, memoryBytes: rec.spec.memory }, opts.forceUnsafe === true,
        );
        const t0 = Date.now();
        const before = rec.state;
        rec = await this.o.vms.states.set(rec, 'migrating', 'live migration to a new QEMU process on this host');
        let target: IncomingMigration | undefined;
        let targetError: Error | undefined;
        let stats: MigrationStats;
        const steer = steering(m, plan, onProgress);
        try {
          const hotplugged = await hotplugLayoutOf(source, signal); // vm resize: the target gets the same vCPU and DIMM devices
          // Encrypted disks: the new QEMU reads their passphrases from secret files as it starts (removed right after).
          const dropSecretFiles = await this.o.vms.writeSecretFiles(rec);
          try {
            target = await driver.prepareIncoming({ ...this.o.vms.plan(rec), ...(hotplugged ? { hotplugged } : {}) }, { tuning: plan.tuning, accel: source.info.accel }, signal);
          } finally {
            await dropSecretFiles();
          }
          const loaded = target.waitLoaded(signal);
          loaded.catch((err: Error) => {
            targetError = err;
            if (!m.controller.signal.aborted) m.controller.abort(err);
          });
          m.phase = 'transferring';
          stats = await source.migrateOut(target.uri, plan.tuning, {
            signal,
            onProgress: steer.onProgress,
          });
          m.phase = 'switching-over';
          await loaded;
        } catch (err) {
          // Give a dying target a moment to be noticed, so the error names the real cause
          // (decided before we kill the target ourselves, which would look the same).
          if (!targetError && target) await sleep(300).catch(() => undefined);
          const cause = (targetError ?? err) as Error;
          await target?.abort();
          this.log.warn({ vm: name, err, targetError }, 'live migration rolled back');
          const where = `VM ${name} keeps running on the source (pid ${source.info.pid})`;
          await this.o.vms.states.set(rec, before, `live migration failed or was cancelled: ${cause.message}`);
          if (isPolyvisorError(cause, 'ABORTED')) throw cause;
          // A target that refused the move before anything ran (post-copy without userfaultfd) keeps its code and hint: retrying will not help.
          if (isPolyvisorError(cause, 'MIGRATION_INCOMPATIBLE')) throw new PolyvisorError('MIGRATION_INCOMPATIBLE', `${cause.message}; ${where}`, { cause, hint: cause.hint, ...(cause.details !== undefined ? { details: cause.details } : {}) });
          throw new PolyvisorError(isPolyvisorError(cause, 'TIMEOUT') ? 'TIMEOUT' : 'MIGRATION_FAILED', `${cause.message}; ${where}`, {
            cause, ...(isPolyvisorError(cause) && cause.details !== undefined ? { details: cause.details } : {}),
          });
        }
        return this.switchOver({ rec, source, target, stats, t0, plan, warnings, name, finalDowntimeLimit: steer.finalDowntimeLimitMs() });
      });
    } finally {
      cancel?.removeEventListener('abort', onCancel);
      this.active.remove(m);
    }
  }

  /** The target holds the VM: stop the source process, move the target onto the VM's paths, record the new runtime. */
  private async switchOver(c: {
    rec: VmRecord; name: string; t0: number; stats: MigrationStats; warnings: string[];
    source: VmInstance; target: IncomingMigration; plan: MigrationPlan; finalDowntimeLimit: number;
  }): Promise<MigrationResult> {
    const { rec, name, stats, plan } = c;
    try {
      await c.source.kill(timeoutSignal(30_000));
      const inst = await c.target.commit(timeoutSignal(30_000));
      this.o.vms.replaceInstance(name, inst);
      const status = await inst.status(timeoutSignal(10_000));
      const to = status === 'paused' ? 'paused' : 'running';
      const reason = `live-migrated to a new process (downtime ${stats.downtimeMs} ms, total ${stats.totalTimeMs} ms${stats.postcopy ? ', post-copy' : ''})`;
      const next = await this.o.vms.states.set(rec, to, reason, { runtime: inst.info });
      const result: MigrationResult = {
        vm: name, state: next.state, sourcePid: c.source.info.pid, targetPid: c.target.pid, wallMs: Date.now() - c.t0, stats,
        policy: {
          downtimeLimitMs: plan.tuning.downtimeLimitMs, finalDowntimeLimitMs: c.finalDowntimeLimit, maxBandwidthBytesPerS: plan.tuning.maxBandwidthBytesPerS ?? null,
          autoConverge: plan.tuning.autoConverge, postcopy: plan.postcopy, multifdChannels: plan.tuning.multifdChannels, xbzrle: plan.tuning.xbzrleCacheBytes > 0,
        },
        explanation: plan.explanation,
        warnings: c.warnings,
      };
      this.log.info({ vm: name, ...stats, wallMs: result.wallMs, sourcePid: result.sourcePid, targetPid: result.targetPid }, 'live migration completed');
      return result;
    } catch (err) {
      // Past the switch-over the target holds the only copy of the guest: never kill it here.
      await this.o.vms.states.set(rec, 'error', `live migration switch-over failed: ${(err as Error).message}`).catch(() => undefined);
      throw new PolyvisorError('MIGRATION_FAILED', `VM ${name} was migrated to pid ${c.target.pid}, but handing it over failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
