/**
 * The live-migration capability: a driver can prepare an incoming VM with an
 * identical device model, and a running instance can send itself there.
 * migration/ orchestrates; drivers/qemu implements. Policy lives in migration/.
 */
import type { Accel, LaunchPlan, VmInstance } from './driver.js';

/** Knobs applied to both ends (capabilities) or the source (parameters) before the stream starts. */
export interface MigrationTuning {
  /** Longest pause allowed for the final stop-and-copy (QEMU downtime-limit). */
  downtimeLimitMs: number;
  /** Bytes per second the stream may use; undefined = unlimited. */
  maxBandwidthBytesPerS?: number;
  /** Throttle vCPUs when the guest dirties memory faster than the stream sends it. */
  autoConverge: boolean;
  /** Enable post-copy so the source may switch to it (needs the capability on both ends). */
  postcopy: boolean;
  /** Parallel channels (multifd); 0 or 1 = one stream. */
  multifdChannels: number;
  /** XBZRLE delta compression of re-sent pages, with this cache size in bytes (0 = off). */
  xbzrleCacheBytes: number;
}

/** One sample of an outgoing migration, from QEMU's query-migrate. */
export interface MigrationProgress {
  /** QEMU's status: setup, active, postcopy-active, device, completed, failed, cancelling, cancelled… */
  status: string;
  elapsedMs: number;
  transferredBytes: number;
  remainingBytes: number;
  totalBytes: number;
  /** Pages the guest dirtied per second in the last iteration. */
  dirtyPagesRate: number;
  pageSize: number;
  /** Estimated stop-and-copy time now, if QEMU gave one. */
  expectedDowntimeMs?: number;
  /** Dirty-bitmap sync count: 1 during the first pass over RAM, then one per iteration. */
  iteration: number;
  /** Current stream throughput in Mbit/s. */
  mbps: number;
  /** vCPU throttle applied by auto-converge, in percent. */
  cpuThrottlePercent: number;
  postcopy: boolean;
}

/** The result of a finished migration, from QEMU's own statistics. */
export interface MigrationStats {
  totalTimeMs: number;
  downtimeMs: number;
  setupTimeMs: number;
  transferredBytes: number;
  totalBytes: number;
  iterations: number;
  postcopy: boolean;
  cpuThrottlePercent: number;
  mbps: number;
}

/** What the caller may ask of a running migration after a progress sample. */
export type MigrationSteer = 'postcopy' | { downtimeLimitMs: number };

export interface MigrateOutOptions {
  signal: AbortSignal;
  /**
   * Called for every progress sample (about 10 per second). Return 'postcopy'
   * to switch now, or a new downtime limit to apply from the next pass.
   */
  onProgress?: (p: MigrationProgress) => MigrationSteer | void;
  /** Sampling interval (default 100 ms). */
  intervalMs?: number;
}

/** A running instance that can migrate itself (the source end). */
export interface MigrationSource {
  /**
   * Sets the tuning, starts `migrate` to `uri` and resolves with QEMU's stats
   * when it completes (the source process is then stopped, post-migrate).
   * On failure or abort it runs migrate_cancel and rejects; the source keeps
   * running unless post-copy had already switched over.
   */
  migrateOut(uri: string, tuning: MigrationTuning, o: MigrateOutOptions): Promise<MigrationStats>;
  /** Switches a running pre-copy migration to post-copy now. */
  startPostcopy(signal: AbortSignal): Promise<void>;
}

/** A target process waiting for (or loading) an incoming migration. */
export interface IncomingMigration {
  /** PID of the target process. */
  readonly pid: number;
  /** Where the source sends the stream (e.g. unix:/…/incoming/mig.sock). */
  readonly uri: string;
  /** Resolves when the target has loaded all state; rejects if it fails or its process dies. */
  waitLoaded(signal: AbortSignal): Promise<void>;
  /**
   * After the source process is gone: moves the target's runtime files to the
   * VM's usual paths and returns the VM's new instance.
   */
  commit(signal: AbortSignal): Promise<VmInstance>;
  /** Kills the target and removes every file it made. Safe to call twice. */
  abort(): Promise<void>;
}

/** A driver that can start incoming migrations. */
export interface Migratable {
  /**
   * Starts a target for `plan` (same spec, same disks, same accelerator as the
   * source) that waits for a migration stream.
   */
  prepareIncoming(plan: LaunchPlan, o: { tuning: MigrationTuning; accel: Accel }, signal: AbortSignal): Promise<IncomingMigration>;
}

/** True when `inst` implements the source side of live migration. */
export function canMigrateOut(inst: VmInstance): inst is VmInstance & MigrationSource {
  return typeof (inst as Partial<MigrationSource>).migrateOut === 'function';
}

/** True when `driver` can prepare incoming migrations. */
export function canMigrateIn(driver: object): driver is Migratable {
  return typeof (driver as Partial<Migratable>).prepareIncoming === 'function';
}
