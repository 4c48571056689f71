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
  canMigrateIn, canMigrateOut, type Driver, type IncomingMigration, type MigrationProgress, type MigrationStats, type VmInstance,
} from '../drivers/index.js';
import type { VmService } from '../lifecycle/index.js';
import { fail, isPolyvisorError, PolyvisorError, sleep, timeoutSignal, type Logger } from '../shared/index.js';
import type { VmRecord } from '../store/index.js';
import { ActiveMigration, ActiveMigrations, type MigrationStatusView } from './active.js';
import type { MigrateOptions } from './options.js';
import { choosePolicy, nextDowntimeLimit, shouldSwitchToPostcopy, type MigrationPlan } from './policy.js';
import { checkMigrationSafety } from './safety.js';

export interface MigrationServiceOptions {
  vms: VmService;
  driver: Driver;
  logger: Logger;
}

export interface MigrationResult {
  vm: string;
  state: VmRecord['state'];
  sourcePid: number;
  targetPid: number;
  /** Wall time of the whole operation, preparing the target included. */
  wallMs: number;
  /** QEMU's own figures: total-time, downtime, setup-time, bytes, passes. */
  stats: MigrationStats;
  policy: { downtimeLimitMs: number; finalDowntimeLimitMs: number; maxBandwidthBytesPerS: number | null; autoConverge: boolean; postcopy: string; multifdChannels: number; xbzrle: boolean };
  explanation: string;
  warnings: string[];
}

export type ProgressListener = (p: MigrationProgress) => void;

export class MigrationService {
  private readonly active = new ActiveMigrations();
  private readonly log: Logger;

  constructor(private readonly o: MigrationServiceOptions) {
    this.log = o.logger.child({ component: 'migration' });
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

  /** Moves VM `name` live into a new QEMU process on this host. */
  async migrate(name: string, opts: MigrateOptions = {}, onProgress?: ProgressListener): Promise<MigrationResult> {
    const driver = this.o.driver;
    if (!canMigrateIn(driver)) fail('MIGRATION_FAILED', `the ${driver.name} driver cannot receive live migrations`);
    const rec0 = await this.o.vms.get(name);
    const plan = choosePolicy(opts, { transport: 'unix', memoryBytes: rec0.spec.memory });
    const m = new ActiveMigration(name, plan.postcopy, plan.explanation);
    this.active.add(m);
    const signal = timeoutSignal(plan.timeoutMs, m.controller.signal);
    try {
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
        let finalDowntimeLimit = plan.tuning.downtimeLimitMs;
        try {
          target = await driver.prepareIncoming(this.o.vms.plan(rec), { tuning: plan.tuning, accel: source.info.accel }, signal);
          const loaded = target.waitLoaded(signal);
          loaded.catch((err: Error) => {
            targetError = err;
            if (!m.controller.signal.aborted) m.controller.abort(err);
          });
          m.phase = 'transferring';
          let downtimeLimitMs = plan.tuning.downtimeLimitMs;
          stats = await source.migrateOut(target.uri, plan.tuning, {
            signal,
            onProgress: (p) => {
              m.progress = p;
              if (p.postcopy) m.phase = 'postcopy';
              onProgress?.(p);
              if (m.postcopyRequested || shouldSwitchToPostcopy(plan.postcopy, p)) {
                m.postcopyRequested = false;
                m.phase = 'postcopy';
                return 'postcopy';
              }
              const raised = nextDowntimeLimit(plan, p, downtimeLimitMs);
              if (raised !== undefined) {
                downtimeLimitMs = raised;
                finalDowntimeLimit = raised;
                return { downtimeLimitMs: raised };
              }
            },
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
          throw new PolyvisorError(isPolyvisorError(cause, 'TIMEOUT') ? 'TIMEOUT' : 'MIGRATION_FAILED', `${cause.message}; ${where}`, {
            cause, ...(isPolyvisorError(cause) && cause.details !== undefined ? { details: cause.details } : {}),
          });
        }
        return this.switchOver({ rec, source, target, stats, t0, plan, warnings, name, finalDowntimeLimit });
      });
    } finally {
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
