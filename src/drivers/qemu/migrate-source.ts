/**
 * The source end of a live migration: set capabilities and parameters,
 * `migrate`, sample query-migrate until it ends, switch to post-copy when the
 * caller asks, and on failure or abort `migrate_cancel` and wait until QEMU
 * has resumed the guest. Knows nothing of policy (migration/ decides).
 */
import type { QmpClient } from '../../qmp/index.js';
import { isPolyvisorError, mibOf, PolyvisorError, sleep, timeoutSignal, WorkDeadline, type Logger } from '../../shared/index.js';
import type { MigrateOutOptions, MigrationStats, MigrationTuning } from '../migratable.js';
import { MigrationEvents } from './migration.js';
import { FINAL_STATUSES, migrationCapabilities, migrationParameters, toProgress, toStats, type QueryMigrate } from './migrate-params.js';
import { DEFAULT_MIRROR_STALL_MS, DiskMirrors } from './disk-mirrors.js';
import { cancelAllMirrors } from './migrate-nbd.js';
import { addTlsCreds, removeTlsCreds, TLS_OBJECT_ID } from './migrate-tls.js';

/** Capabilities a save to disk needs off again after a live migration (multifd would break it). */
const RESET_CAPS = ['postcopy-ram', 'multifd', 'auto-converge', 'xbzrle', 'pause-before-switchover'];
const QUERY_TIMEOUT_MS = 60_000;
/** A stream that sends nothing for this long (target or link stuck) is given up; the move's own timeout bounds the rest. */
export const STREAM_STALL_MS = 120_000;

export interface SourceContext {
  qmp: QmpClient;
  logger: Logger;
  /** Tells the instance why the next STOP happens. */
  expectPause: (reason: string) => void;
}

/** The only migration addresses Polyvisor builds; QEMU would run an `exec:` one through a shell. */
const SAFE_URI = /^(tcp:[A-Za-z0-9.:[\]-]{1,255}:\d{1,5}|unix:\/[A-Za-z0-9._/-]{1,4000})$/;

export async function migrateOut(c: SourceContext, uri: string, t: MigrationTuning, o: MigrateOutOptions): Promise<MigrationStats> {
  const { qmp } = c;
  if (!SAFE_URI.test(uri)) throw new PolyvisorError('MIGRATION_FAILED', `refusing the migration address ${JSON.stringify(uri.slice(0, 80))}: only tcp:HOST:PORT and unix:/PATH are used`, { details: { side: 'source' } });
  const current = await qmp.execute<QueryMigrate>('query-migrate', undefined, { signal: o.signal });
  if (current.status !== undefined && !FINAL_STATUSES.has(current.status)) {
    throw new PolyvisorError('MIGRATION_FAILED', `a migration of this VM is already in progress (QEMU status ${current.status})`);
  }
  let started = false;
  let sawPostcopy = false;
  let maxThrottle = 0;
  let lastStatus: string | undefined;
  let lastPass: number | undefined;
  // migrate-continue only wakes QEMU's migration thread: until it runs, query-migrate may still say
  // pre-switchover (seen under load), and the mirrors, finished already, must not be completed twice.
  let continued = false;
  const mirrors = o.mirrors?.length ? new DiskMirrors(qmp, o.mirrors, {
    mode: o.mirrorMode ?? 'auto', stallMs: o.mirrorStallMs ?? DEFAULT_MIRROR_STALL_MS, logger: c.logger,
    ...(o.mirrorSpeedBytesPerS ? { speedBytesPerS: o.mirrorSpeedBytesPerS } : {}),
    ...(o.tls ? { tls: o.tls } : {}), ...(o.onMirrorProgress ? { onProgress: o.onMirrorProgress } : {}),
  }) : undefined;
  let tlsAdded = false;
  const events = new MigrationEvents(qmp);
  // Progress here is bytes sent: "left" for the deadline is their negative, so every byte counts as a gain.
  const stream = new WorkDeadline('the outgoing migration stream', { stallMs: STREAM_STALL_MS });
  try {
    const t0 = Date.now();
    const slow = { signal: o.signal, timeoutMs: QUERY_TIMEOUT_MS };
    if (o.tls) {
      await addTlsCreds(qmp, o.tls, 'client', o.signal);
      tlsAdded = true;
    }
    if (mirrors) {
      await mirrors.start(o.signal);
      await mirrors.waitReady(o.signal);
      await o.onMirrorsReady?.();
    }
    const caps = migrationCapabilities(t, 'source');
    if (mirrors) caps.push({ capability: 'pause-before-switchover', state: true });
    await qmp.execute('migrate-set-capabilities', { capabilities: caps }, slow);
    await qmp.execute('migrate-set-parameters', {
      // Without TLS say so: a QEMU that arrived by an encrypted move keeps that move's tls-creds parameter set.
      ...migrationParameters(t, 'source'), ...(o.tls ? { 'tls-creds': TLS_OBJECT_ID, 'tls-hostname': o.tls.hostname } : { 'tls-creds': '', 'tls-hostname': '' }),
    }, slow);
    c.expectPause('live migration switch-over');
    await qmp.execute('migrate', { uri }, slow);
    started = true;
    c.logger.debug({ ms: Date.now() - t0 }, 'outgoing migration started');
    for (;;) {
      // Once post-copy has switched over the guest runs on the target: cancelling would lose it, so finish.
      const signal = sawPostcopy ? timeoutSignal(120_000) : o.signal;
      // The final stop-and-copy holds QEMU's big lock, so the monitor may not answer for a while.
      const q = await qmp.execute<QueryMigrate>('query-migrate', undefined, { signal, timeoutMs: QUERY_TIMEOUT_MS });
      if (q.status !== lastStatus || q.ram?.['dirty-sync-count'] !== lastPass) {
        c.logger.debug({ status: q.status, ram: q.ram, throttle: q['cpu-throttle-percentage'] }, 'migration progress');
        [lastStatus, lastPass] = [q.status, q.ram?.['dirty-sync-count']];
      }
      if (q.status === 'completed') {
        o.onCompleted?.();
        const done = await settledStats(qmp, q);
        c.logger.debug({ queryMigrate: done }, 'outgoing migration completed');
        return withMirrors(toStats(done, sawPostcopy, maxThrottle), mirrors);
      }
      if (q.status === 'pre-switchover' && !continued) {
        // vCPUs are stopped: finish the disk copies, then let QEMU send the device state.
        await mirrors?.complete(signal);
        await qmp.execute('migrate-continue', { state: 'pre-switchover' }, { signal, timeoutMs: QUERY_TIMEOUT_MS });
        continued = true;
        continue;
      }
      if (q.status === 'failed' || q.status === 'cancelled') {
        started = false;
        throw new PolyvisorError('MIGRATION_FAILED', `the source QEMU reports the migration ${q.status}: ${q['error-desc'] ?? 'no reason given'}`, {
          details: { side: 'source', status: q.status },
        });
      }
      const p = toProgress(q);
      if (q.status === 'active' || q.status === 'postcopy-active') {
        stream.sample(-p.transferredBytes, `${q.status}, pass ${p.iteration}, sent ${mibOf(p.transferredBytes, p.transferredBytes + p.remainingBytes)}`);
        if (stream.stalled()) throw new PolyvisorError('MIGRATION_FAILED', stream.timeout().message, { details: { side: 'source', status: q.status } });
      }
      sawPostcopy ||= p.postcopy;
      maxThrottle = Math.max(maxThrottle, p.cpuThrottlePercent);
      const steer = o.onProgress?.(p);
      if (steer === 'postcopy' && t.postcopy && !sawPostcopy && q.status === 'active') {
        await startPostcopy(qmp, signal);
        sawPostcopy = true;
      } else if (typeof steer === 'object' && q.status === 'active') {
        await qmp.execute('migrate-set-parameters', { 'downtime-limit': Math.max(1, Math.round(steer.downtimeLimitMs)) }, { signal, timeoutMs: QUERY_TIMEOUT_MS });
        c.logger.debug({ downtimeLimitMs: steer.downtimeLimitMs, pass: p.iteration }, 'downtime limit raised');
      }
      // Near the end (stop-and-copy, or little left to send) look often: the sooner the completion is
      // seen, the sooner a host-to-host target is told to resume the guest.
      const nearEnd = q.status === 'device' || (p.iteration >= 2 && p.remainingBytes < 16 * 1024 ** 2);
      await events.nap(nearEnd ? 10 : (o.intervalMs ?? 100), signal).catch((err: unknown) => {
        if (!sawPostcopy) throw err;
      });
    }
  } catch (err) {
    if (started && !sawPostcopy) {
      const q = await cancel(c);
      // The cancel lost the race with the end of the migration: the target holds the VM now.
      if (q?.status === 'completed') return withMirrors(toStats(q, sawPostcopy, maxThrottle), mirrors);
    }
    if (mirrors) await mirrors.cancel();
    if (tlsAdded) await removeTlsCreds(qmp);
    await resetCapabilities(qmp).catch(() => undefined);
    if (sawPostcopy && !isPolyvisorError(err, 'MIGRATION_FAILED')) {
      throw new PolyvisorError('MIGRATION_FAILED', `the migration failed after the switch to post-copy: ${(err as Error).message}`, { cause: err, details: { side: 'source', postcopy: true } });
    }
    throw err;
  } finally {
    events.close();
    mirrors?.close();
  }
}

function withMirrors(s: MigrationStats, mirrors: DiskMirrors | undefined): MigrationStats {
  return mirrors ? { ...s, mirrors: mirrors.stats() } : s;
}

/**
 * QEMU 7.2 sets the status to completed a moment before it computes
 * total-time and downtime (migration_calculate_complete): until then both
 * read 0. Ask again briefly so the stats are the real ones.
 */
async function settledStats(qmp: QmpClient, q: QueryMigrate): Promise<QueryMigrate> {
  // Never throws: the migration has completed, a failed look at its numbers must not undo it.
  for (let i = 0; i < 40 && !q['total-time']; i++) {
    await sleep(25);
    const again = await qmp.execute<QueryMigrate>('query-migrate', undefined, { timeoutMs: 5_000 }).catch(() => undefined);
    if (again?.status === 'completed') q = again;
  }
  return q;
}

export async function startPostcopy(qmp: QmpClient, signal: AbortSignal): Promise<void> {
  await qmp.execute('migrate-start-postcopy', undefined, { signal });
}

/** migrate_cancel, then wait (bounded) until QEMU reports it cancelled or failed, so the guest runs again. */
async function cancel(c: SourceContext): Promise<QueryMigrate | undefined> {
  const signal = timeoutSignal(15_000);
  try {
    await c.qmp.execute('migrate_cancel', undefined, { signal });
    let q: QueryMigrate;
    for (;;) {
      q = await c.qmp.execute<QueryMigrate>('query-migrate', undefined, { signal });
      if (q.status === undefined || FINAL_STATUSES.has(q.status)) break;
      await sleep(50, signal);
    }
    if (q.status === 'completed') return q;
    const { status } = await c.qmp.execute<{ status: string }>('query-status', undefined, { signal });
    // A cancel that lands during switch-over can leave the vCPUs stopped: the source must keep running.
    if (status === 'postmigrate' || status === 'finish-migrate') await c.qmp.execute('cont', undefined, { signal });
    return q;
  } catch (err) {
    c.logger.warn({ err }, 'cancelling the outgoing migration did not finish cleanly');
    return undefined;
  }
}

/** What a move set up on the source (mirrors, capabilities, TLS), undone for a guest that stays here. */
export async function undoOutgoing(qmp: QmpClient, signal: AbortSignal): Promise<void> {
  await cancelAllMirrors(qmp, signal);
  await resetCapabilities(qmp);
  await removeTlsCreds(qmp);
}

/** Capabilities back off, so a later save to disk or same-host move does not inherit them. */
export async function resetCapabilities(qmp: QmpClient): Promise<void> {
  await qmp.execute('migrate-set-capabilities', { capabilities: RESET_CAPS.map((capability) => ({ capability, state: false })) }, { timeoutMs: 5_000 });
}
