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
  /** Non-shared disks mirrored to the target (host-to-host moves that copy disks). */
  mirrors?: MirrorStats;
}

/**
 * How a disk mirror copies: `background` copies dirty blocks behind the
 * guest's writes (may fall behind a fast writer); `write-blocking` (QEMU's
 * active mirroring) completes each guest write on both sides, so the copy
 * never falls behind, at the price of the target's write latency.
 */
export type MirrorMode = 'background' | 'write-blocking';

/** What the disk mirrors of a move did. */
export interface MirrorStats {
  disks: number;
  /** write-blocking when any disk ended in that mode. */
  mode: MirrorMode;
  /** Background mirrors restarted in write-blocking mode because they stopped gaining on the guest. */
  switchedToActive: number;
  /** From the first mirror's start until every disk was in sync. */
  syncMs: number;
  /** Bytes the mirrors still had to copy when the vCPUs stopped for the switch-over (0: in step). */
  behindBytes: number;
  /** At the switch-over, vCPUs stopped: from then until every mirror had copied all and ended. */
  convergeMs: number;
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
  /** Sampling interval (default 100 ms; a MIGRATION event cuts a wait short). */
  intervalMs?: number;
  /**
   * Called once, as soon as the source sees the stream completed (its guest
   * stopped for good), before the final numbers are read: a host-to-host
   * move starts its commit here so the target resumes the guest sooner.
   */
  onCompleted?: () => void;
  /**
   * Non-shared disks: mirror each to the target's NBD export (blockdev-mirror
   * sync=full) before the RAM stream starts, and complete the mirrors while
   * the source is stopped just before the switch-over (pause-before-switchover).
   */
  mirrors?: readonly NbdMirror[];
  /** Called while the disks are being mirrored, before the RAM stream starts. */
  onMirrorProgress?: (p: MirrorProgress) => void;
  /** How the mirrors copy; `auto` (default) starts in background mode and goes write-blocking when a mirror stops gaining. */
  mirrorMode?: 'auto' | MirrorMode;
  /** auto: how long a background mirror may gain nothing before it goes write-blocking (default 10 s). */
  mirrorStallMs?: number;
  /** Cap on each disk mirror's background copy, bytes/s (absent: unlimited). */
  mirrorSpeedBytesPerS?: number;
  /** Awaited once every mirror is in sync, before the RAM stream starts (a test delay point). */
  onMirrorsReady?: () => Promise<void>;
  /** Encrypt the stream (and the NBD connections) with these credentials. */
  tls?: MigrationTlsFiles;
}

/** One non-shared disk and where the target exports its empty copy. */
export interface NbdMirror {
  disk: string;
  host: string;
  port: number;
  /** NBD export name. */
  exportName: string;
}

export interface MirrorProgress {
  /** Bytes copied so far, over all disks. */
  doneBytes: number;
  totalBytes: number;
  /** Disks whose mirror is in sync (BLOCK_JOB_READY). */
  readyDisks: number;
  disks: number;
}

/**
 * x509 credentials for QEMU's tls-creds-x509 object: a directory with
 * ca-cert.pem and, for the server end, server-cert.pem/server-key.pem, for
 * the client end client-cert.pem/client-key.pem.
 */
export interface MigrationTlsFiles {
  dir: string;
  /** The name the server certificate was issued for (QEMU's tls-hostname on the client). */
  hostname: string;
}

/** Where an incoming migration listens, when not on a unix socket of this host. */
export interface IncomingOptions {
  tuning: MigrationTuning;
  accel: Accel;
  /** Listen on TCP at this address (host-to-host); default: a unix socket in the VM dir. */
  listen?: { host: string; port: number };
  /**
   * With `listen`: only these peer addresses may connect to the migration
   * stream and the NBD exports (the source host's address). QEMU then listens
   * on unix sockets in the VM dir behind a gate on `listen` (shared/address-gate.ts).
   */
  allowFrom?: readonly string[];
  /** Start with -S: the guest stays paused after loading until commit + resume (host-to-host commit protocol). */
  paused?: boolean;
  /** Export these disks (empty images of the right size) writable over NBD on this address, for the source's mirrors. */
  nbd?: { host: string; port: number; disks: readonly string[] };
  tls?: MigrationTlsFiles;
}

/** Facts about this host that decide whether a VM can move here (compared by migration/compat.ts). */
export interface HostFacts {
  qemuVersion: string;
  /** Machine types this QEMU knows, with their aliases (q35, pc, pc-q35-7.2…). */
  machineTypes: string[];
  accel: Accel;
  /** Host CPU flags (/proc/cpuinfo), for the "host" CPU model. */
  cpuFlags: string[];
  /** /proc/meminfo MemAvailable, bytes. */
  memAvailableBytes: number;
  /** Migration capabilities this QEMU has (postcopy-ram, multifd, xbzrle…). */
  capabilities: string[];
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
  /**
   * After a completed outgoing migration the target did not take over (the
   * guest stays here): drops what the move set up on this process (disk
   * mirrors, migration capabilities, TLS credentials), so a later save or
   * move starts clean. Does not resume the guest.
   */
  undoOutgoing(signal: AbortSignal): Promise<void>;
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
  /** Where each disk's NBD export listens (host-to-host without shared storage). */
  readonly nbd?: readonly NbdMirror[];
}

/** A driver that can start incoming migrations. */
export interface Migratable {
  /**
   * Starts a target for `plan` (same spec, same disks, same accelerator as the
   * source) that waits for a migration stream.
   */
  prepareIncoming(plan: LaunchPlan, o: IncomingOptions, signal: AbortSignal): Promise<IncomingMigration>;
  /** What a source compares before moving a VM here. */
  hostFacts?(signal: AbortSignal): Promise<HostFacts>;
  /** Restart recovery on a target: kills any QEMU an unfinished incoming migration left in `dir` and removes its files. */
  discardIncoming?(dir: string, vmId: string): Promise<void>;
  /** Restart recovery on a source: cancel a host-to-host stream still running from the VM in `dir`; a completed one is left stopped. */
  cancelOutgoing?(dir: string): Promise<'cancelled' | 'completed' | 'none'>;
  /** Makes a fresh CA, server and client certificate for one migration's stream in `dir` (keys 0600). */
  makeMigrationTls?(dir: string, hostname: string, signal: AbortSignal): Promise<MigrationTlsFiles>;
}

/** True when `inst` implements the source side of live migration. */
export function canMigrateOut(inst: VmInstance): inst is VmInstance & MigrationSource {
  return typeof (inst as Partial<MigrationSource>).migrateOut === 'function';
}

/** True when `driver` can prepare incoming migrations. */
export function canMigrateIn(driver: object): driver is Migratable {
  return typeof (driver as Partial<Migratable>).prepareIncoming === 'function';
}
