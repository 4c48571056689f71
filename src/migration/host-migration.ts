/**
 * The source end of a host-to-host move (docs/migration.md, "Between two
 * daemons"). On the VM's job queue:
 *
 * live:    running|paused → migrating → target prepares (compat check, row
 *          with a claim, incoming QEMU -S, NBD exports) → mirror the
 *          non-shared disks → RAM stream → completed (source stopped) →
 *          target commits (owns the VM, resumes it) → the source's process,
 *          row and directory are removed.
 * offline: stopped|created|suspended: target prepares empty files served by
 *          qemu-nbd → qemu-img copies each → commit → source removed.
 *
 * Until the commit every failure aborts the target (which deletes all it
 * made) and leaves the VM where it was. While the stream runs the target is
 * asked every second how it is: a target daemon that stops answering cancels
 * the move. If the commit's answer is lost, abort() tells whether the target
 * had committed: then the move succeeded; if not, the source resumes; if
 * the target cannot be reached at all, the VM goes to `error` with its
 * source QEMU stopped but kept (only one of the two copies may run).
 */
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  canMigrateIn, canMigrateOut, type Driver, type MigrationProgress, type MigrationSource, type MigrationStats, type MigrationTlsFiles, type VmInstance,
} from '../drivers/index.js';
import { faultPoint, type NetworkService, type VmService } from '../lifecycle/index.js';
import { hotplugLayoutOf } from './hotplug-layout.js';
import { pinNicAddresses } from './network-nics.js';
import { fail, isPolyvisorError, newId, PolyvisorError, timeoutSignal, writeFileAtomic, type Logger } from '../shared/index.js';
import { imageInfo } from '../storage/index.js';
import type { VmRecord } from '../store/index.js';
import type { ActiveMigration } from './active.js';
import type { SourceFacts } from './compat.js';
import { copyFileToNbd } from './offline-nbd.js';
import { checkReady } from './peer-reply.js';
import type { MigrateOptions } from './options.js';
import { STATE_EXPORT, TLS_HOSTNAME, type CommitResult, type IncomingDisk, type IncomingReady, type IncomingRequest, type MigrationPeer, type MigrationTargetRef, type PeerFactory } from './peer.js';
import type { MigrationPlan } from './policy.js';
import { steering } from './steer.js';
import { checkMigrationSafety } from './safety.js';
import type { MigrationResult, ProgressListener } from './result.js';

const HEARTBEAT_MS = 1_000;
/** In the source's VM directory while a host-to-host live move runs. */
export const OUTGOING_MARKER = 'migration-out.json';

/** What the outgoing marker holds: enough for a restarted daemon to settle the move with the target. */
interface OutgoingMarker {
  migrationId: string;
  target: string;
  ref?: MigrationTargetRef;
  before?: VmRecord['state'];
  at: string;
}

export interface HostMigrationDeps {
  vms: VmService;
  driver: Driver;
  logger: Logger;
  host: string;
  peer: MigrationPeer;
  target: MigrationTargetRef;
  /** Virtual networks: the spec sent pins each NIC's address (network-nics.ts). */
  networks?: Pick<NetworkService, 'allocationsOf'>;
}

/** The spec the target gets: each network NIC keeps the address it has here. */
async function sentSpec(d: HostMigrationDeps, rec: VmRecord): Promise<VmRecord['spec']> {
  return d.networks ? pinNicAddresses(rec.spec, await d.networks.allocationsOf(rec.name)) : rec.spec;
}

export interface HostMoveContext {
  m: ActiveMigration;
  plan: MigrationPlan;
  opts: MigrateOptions;
  signal: AbortSignal;
  onProgress?: ProgressListener;
}

export interface HostMoveResult extends MigrationResult {
  mode: 'live' | 'offline';
  target: { host: string; url: string };
  /** On the target: from the commit request to the guest running again. */
  handoverMs: number | null;
  /**
   * On the source: from seeing the stream complete (source stopped) to the
   * target's commit answer. The guest's real pause is about stats.downtimeMs
   * + commitMs: the target waits paused (-S) for the commit.
   */
  commitMs: number | null;
  copiedDisks: string[];
}

/** A progress sample for the phases before the RAM stream (disk copies): nothing sent yet, all of RAM to go. */
function idleProgress(status: string, elapsedMs: number, ramBytes: number): MigrationProgress {
  return { status, elapsedMs, transferredBytes: 0, remainingBytes: ramBytes, totalBytes: ramBytes, dirtyPagesRate: 0, pageSize: 4096, iteration: 0, mbps: 0, cpuThrottlePercent: 0, postcopy: false };
}

async function cpuFlags(): Promise<string[]> {
  const text = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  return (/^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? '').split(/\s+/).filter(Boolean).sort();
}

export async function moveToHost(d: HostMigrationDeps, name: string, c: HostMoveContext): Promise<HostMoveResult> {
  const result = await d.vms.exclusive(name, async (rec, source) => {
    if (rec.state === 'running' || rec.state === 'paused') return moveLive(d, rec, source, c);
    if (rec.state === 'stopped' || rec.state === 'created' || rec.state === 'suspended') return moveOffline(d, rec, c);
    fail('INVALID_TRANSITION', `cannot move VM ${name} while it is ${rec.state}; it must be running, paused, stopped or suspended`);
  });
  // The target owns the VM now: drop the source's process (stopped after the stream), row and files.
  await dropSourceCopy(d.vms, name, d.host).catch((err: unknown) => d.logger.warn({ vm: name, err }, 'removing the source copy after a move failed'));
  return result;
}

/**
 * After the target took a VM over: this host's copy goes. On a cluster store
 * the row is shared and names the target now, so only the process, taps and
 * files here go; on separate stores the row goes too.
 */
async function dropSourceCopy(vms: VmService, name: string, host: string): Promise<void> {
  const rec = await vms.find(name);
  if (rec && rec.host !== host) await vms.dropLocalCopy(name);
  else await vms.remove(name, { force: true });
}

function describeDisks(rec: VmRecord, diskPaths: Record<string, string>, live: boolean): Promise<IncomingDisk[]> {
  return Promise.all(rec.spec.disks.map(async (disk) => {
    const copy = disk.path === undefined;
    const file = diskPaths[disk.name]!;
    const info = copy ? await imageInfo(file, { format: disk.format, forceShare: live }) : undefined;
    const fileBytes = copy ? (await stat(file)).size : 0;
    return { name: disk.name, format: disk.format, virtualSize: info?.virtualSize ?? 0, fileBytes, copy };
  }));
}

async function sourceFacts(d: HostMigrationDeps, inst: VmInstance | undefined): Promise<SourceFacts> {
  const facts = canMigrateIn(d.driver) && d.driver.hostFacts ? await d.driver.hostFacts(timeoutSignal(30_000)) : undefined;
  return {
    host: d.host,
    qemuVersion: inst?.info.qemuVersion ?? facts?.qemuVersion ?? 'unknown',
    accel: inst?.info.accel ?? facts?.accel ?? 'tcg',
    cpuFlags: facts?.cpuFlags ?? (await cpuFlags()),
  };
}

function features(plan: MigrationPlan, mirrors: boolean): string[] {
  const f: string[] = [];
  if (plan.tuning.postcopy) f.push('postcopy-ram');
  if (plan.tuning.multifdChannels > 1) f.push('multifd');
  if (plan.tuning.xbzrleCacheBytes > 0) f.push('xbzrle');
  if (mirrors) f.push('pause-before-switchover');
  return f;
}

async function makeTls(d: HostMigrationDeps, dir: string, signal: AbortSignal): Promise<{ files: MigrationTlsFiles; wire: NonNullable<IncomingRequest['tls']> }> {
  if (!canMigrateIn(d.driver) || !d.driver.makeMigrationTls) fail('MIGRATION_FAILED', `the ${d.driver.name} driver cannot encrypt migrations`);
  const files = await d.driver.makeMigrationTls(dir, TLS_HOSTNAME, signal);
  const read = (n: string) => readFile(path.join(dir, n), 'utf8');
  return { files, wire: { hostname: TLS_HOSTNAME, caCert: await read('ca-cert.pem'), serverCert: await read('server-cert.pem'), serverKey: await read('server-key.pem') } };
}

/**
 * `{ diskKeys }` for a VM with encrypted disks: their passphrases go with the
 * prepare request (authenticated with the peer token, TLS when the target's
 * API is https); this host's copies go only when the source VM is removed
 * after the commit (dropSourceCopy). Empty for a VM without any.
 */
async function movedKeys(d: HostMigrationDeps, rec: VmRecord): Promise<{ diskKeys?: Record<string, string> }> {
  const keys = await d.vms.diskPassphrases(rec);
  return Object.keys(keys).length ? { diskKeys: keys } : {};
}

/** Whether this host's driver can make per-migration TLS credentials (QEMU's can; a stand-in driver may not). */
function canEncrypt(d: HostMigrationDeps): boolean {
  return canMigrateIn(d.driver) && d.driver.makeMigrationTls !== undefined;
}

/** A target that stops answering (or reports its side failed) cancels the move. */
function watchTarget(d: HostMigrationDeps, migrationId: string, m: ActiveMigration): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy || m.controller.signal.aborted) return;
    busy = true;
    d.peer.status(migrationId)
      .then((s) => {
        if (s.phase === 'aborted') m.controller.abort(new PolyvisorError('MIGRATION_FAILED', `the target ${d.target.url} rolled the migration back`, { details: { side: 'target' } }));
      })
      .catch((err: unknown) => {
        if (m.phase === 'switching-over') return;
        const why = isPolyvisorError(err, 'DAEMON_UNREACHABLE') || isPolyvisorError(err, 'TIMEOUT') ? `the target daemon ${d.target.url} stopped answering` : `the target reports: ${(err as Error).message}`;
        m.controller.abort(new PolyvisorError('MIGRATION_FAILED', why, { cause: err, details: { side: 'target' } }));
      })
      .finally(() => (busy = false));
  }, HEARTBEAT_MS);
  return () => clearInterval(timer);
}

async function moveLive(d: HostMigrationDeps, rec: VmRecord, source: VmInstance | undefined, c: HostMoveContext): Promise<HostMoveResult> {
  const { m, plan, opts, signal } = c;
  const name = rec.name;
  if (!source) fail('QEMU_GONE', `VM ${name} has no running QEMU process`);
  if (!canMigrateOut(source)) fail('MIGRATION_FAILED', `the instance of VM ${name} cannot migrate`);
  const warnings = checkMigrationSafety({ vm: name, accel: source.info.accel, qemuVersion: source.info.qemuVersion, memoryBytes: rec.spec.memory }, opts.forceUnsafe === true);
  const t0 = Date.now();
  const before = rec.state;
  const lplan = d.vms.plan(rec);
  const disks = await describeDisks(rec, lplan.diskPaths, true);
  const copied = disks.filter((x) => x.copy);
  const migrationId = newId('mig');
  const tlsDir = path.join(lplan.dir, `migration-tls-${migrationId}`);
  rec = await d.vms.states.set(rec, 'migrating', `live migration to ${d.target.url}`);
  // A restarted daemon that finds this cancels a stream still running (recoverOutgoing: the target then
  // cleans up) or settles a completed one with the target (settleOutgoing), hence the target's token (0600).
  const marker: OutgoingMarker = { migrationId, target: d.target.url, ref: d.target, before, at: new Date().toISOString() };
  await writeFileAtomic(path.join(lplan.dir, OUTGOING_MARKER), JSON.stringify(marker), 0o600);
  let ready: IncomingReady | undefined;
  let stopWatch = (): void => undefined;
  let stats: MigrationStats;
  const steer = steering(m, plan, c.onProgress);
  // Started the moment the source sees the stream completed (its guest stopped for good): the target
  // waits paused for this, so every millisecond until it is sent is guest downtime.
  let commitP: Promise<CommitResult> | undefined;
  let tCommit = 0;
  const startCommit = (): Promise<CommitResult> => {
    if (!commitP) {
      m.phase = 'switching-over';
      stopWatch();
      commitP = (async () => {
        await faultPoint('host-migrate:before-commit');
        tCommit = Date.now();
        return commitOrResolve(d, rec, before, migrationId, source);
      })();
      commitP.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled meanwhile
    }
    return commitP;
  };
  try {
    // TLS unless the caller turned it off (audit defect 4): the stream and the NBD mirrors carry the guest's memory and disks.
    const tls = (opts.tls ?? canEncrypt(d)) ? await makeTls(d, tlsDir, signal) : undefined;
    const hotplugged = await hotplugLayoutOf(source, signal); // vm resize: the target starts with the same vCPU and DIMM devices
    ready = checkReady(await d.peer.prepare({
      migrationId, mode: 'live', source: await sourceFacts(d, source), vm: { id: rec.id, name, spec: await sentSpec(d, rec), state: before },
      ...(hotplugged ? { hotplugged } : {}),
      disks, tuning: plan.tuning, features: features(plan, copied.length > 0), timeoutSeconds: Math.ceil(plan.timeoutMs / 1000),
      ...(tls ? { tls: tls.wire } : {}), ...(await movedKeys(d, rec)),
    }), d.target, { migrationId, live: true, exports: copied.map((x) => x.name) });
    stopWatch = watchTarget(d, migrationId, m);
    m.phase = copied.length ? 'mirroring' : 'transferring';
    stats = await (source as VmInstance & MigrationSource).migrateOut(ready.uri!, plan.tuning, {
      signal,
      mirrors: ready.nbd,
      ...(tls ? { tls: tls.files } : {}),
      onMirrorProgress: (p) => {
        m.disks = p;
        c.onProgress?.(idleProgress('mirroring', Date.now() - t0, rec.spec.memory));
      },
      onProgress: steer.onProgress,
      onCompleted: () => void startCommit(),
      mirrorMode: opts.diskMirror ?? 'auto',
      onMirrorsReady: () => faultPoint('host-migrate:mirrors-ready'),
      ...(opts.mirrorStallSeconds ? { mirrorStallMs: opts.mirrorStallSeconds * 1000 } : {}),
      ...(opts.diskBandwidthMiBps ? { mirrorSpeedBytesPerS: opts.diskBandwidthMiBps * 1024 ** 2 } : {}),
    });
  } catch (err) {
    if (commitP) {
      // The stream had completed and the commit is under way: the move stands, only its numbers are lost.
      d.logger.warn({ vm: name, err }, 'reading the final migration numbers failed after the stream completed');
      stats = { totalTimeMs: Date.now() - t0, downtimeMs: 0, setupTimeMs: 0, transferredBytes: 0, totalBytes: 0, iterations: 0, postcopy: false, cpuThrottlePercent: 0, mbps: 0 };
    } else {
      stopWatch();
      const cause = (m.controller.signal.aborted && m.controller.signal.reason instanceof Error ? m.controller.signal.reason : err) as Error;
      if (ready) await d.peer.abort(migrationId, { name, id: rec.id }).catch((e2: unknown) => d.logger.warn({ err: e2 }, 'could not tell the target to roll back; it removes the migration itself when the stream breaks or times out'));
      await rm(tlsDir, { recursive: true, force: true });
      await rm(path.join(lplan.dir, OUTGOING_MARKER), { force: true });
      await d.vms.states.set(rec, before, `migration to ${d.target.url} failed or was cancelled: ${cause.message}`);
      if (isPolyvisorError(cause, 'ABORTED') || isPolyvisorError(cause, 'MIGRATION_INCOMPATIBLE') || isPolyvisorError(cause, 'VM_EXISTS')) throw cause;
      throw new PolyvisorError(isPolyvisorError(cause, 'TIMEOUT') ? 'TIMEOUT' : 'MIGRATION_FAILED', `${cause.message}; VM ${name} keeps running on ${d.host} (pid ${source.info.pid})`, {
        cause, ...(isPolyvisorError(cause) && cause.details !== undefined ? { details: cause.details } : {}),
      });
    }
  }
  if (!ready) fail('MIGRATION_FAILED', `the stream to ${d.target.url} completed before the target was prepared`); // cannot happen: the stream needs the target's address
  const commit = await startCommit().finally(async () => {
    await rm(tlsDir, { recursive: true, force: true });
    await rm(path.join(lplan.dir, OUTGOING_MARKER), { force: true });
  });
  const commitMs = Date.now() - tCommit;
  const result: HostMoveResult = {
    vm: name, state: commit.state, sourcePid: source.info.pid, targetPid: commit.pid ?? ready.pid ?? 0, wallMs: Date.now() - t0, stats,
    policy: {
      downtimeLimitMs: plan.tuning.downtimeLimitMs, finalDowntimeLimitMs: steer.finalDowntimeLimitMs(), maxBandwidthBytesPerS: plan.tuning.maxBandwidthBytesPerS ?? null,
      autoConverge: plan.tuning.autoConverge, postcopy: plan.postcopy, multifdChannels: plan.tuning.multifdChannels, xbzrle: plan.tuning.xbzrleCacheBytes > 0,
    },
    explanation: plan.explanation, warnings, mode: 'live', target: { host: ready.host, url: d.target.url },
    handoverMs: commit.handoverMs, commitMs, copiedDisks: copied.map((x) => x.name),
  };
  d.logger.info({ vm: name, target: d.target.url, ...stats, wallMs: result.wallMs, handoverMs: commit.handoverMs, commitMs }, 'host-to-host live migration completed');
  return result;
}

/**
 * The stream is complete and the source stopped. Commit on the target; if
 * its answer is lost, abort() tells which side owns the VM.
 */
async function commitOrResolve(d: HostMigrationDeps, rec: VmRecord, before: VmRecord['state'], migrationId: string, source: VmInstance): Promise<CommitResult> {
  let commitErr: unknown;
  try {
    return await d.peer.commit(migrationId);
  } catch (err) {
    commitErr = err;
  }
  let outcome: 'aborted' | 'committed' | undefined;
  for (let i = 0; i < 5 && outcome === undefined; i++) {
    outcome = await d.peer.abort(migrationId, { name: rec.name, id: rec.id }).then((r) => r.outcome, () => undefined);
    if (outcome === undefined) await new Promise((r) => setTimeout(r, 1_000));
  }
  if (outcome === 'committed') return { migrationId, vm: rec.name, state: before, pid: null, handoverMs: 0 };
  const msg = (commitErr as Error).message;
  if (outcome === 'aborted') {
    // The target never ran the guest (it waits paused under -S until the commit): resuming here is safe,
    // once what the move set up here is undone (a later save would otherwise stop at pause-before-switchover).
    if (canMigrateOut(source)) await source.undoOutgoing(timeoutSignal(30_000)).catch((err: unknown) => d.logger.warn({ vm: rec.name, err }, 'could not undo all the move had set up on the source'));
    if (before === 'running') await source.resume(timeoutSignal(15_000));
    await d.vms.states.set(rec, before, `the target refused the commit (${msg}); the VM stays here`);
    throw new PolyvisorError('MIGRATION_FAILED', `the target ${d.target.url} did not take VM ${rec.name} over (${msg}); it keeps running on ${d.host} (pid ${source.info.pid})`, { cause: commitErr, details: { side: 'target' } });
  }
  await d.vms.states.set(rec, 'error', `migrated to ${d.target.url}, but whether the target took over is unknown (${msg}); the source QEMU is kept stopped`);
  throw new PolyvisorError('MIGRATION_FAILED', `VM ${rec.name} was sent to ${d.target.url}, but the target cannot be reached to confirm the hand-over (${msg}). The source copy is kept stopped: check the target, then remove the copy that should not run`, { cause: commitErr, details: { side: 'target' } });
}

async function moveOffline(d: HostMigrationDeps, rec: VmRecord, c: HostMoveContext): Promise<HostMoveResult> {
  const name = rec.name;
  const t0 = Date.now();
  const lplan = d.vms.plan(rec);
  const disks = await describeDisks(rec, lplan.diskPaths, false);
  const saveFile = d.vms.files(rec).saveFile;
  const saveFileBytes = rec.state === 'suspended' ? (await stat(saveFile)).size : undefined;
  const migrationId = newId('mig');
  const tlsDir = path.join(lplan.dir, `migration-tls-${migrationId}`);
  let ready: IncomingReady | undefined;
  try {
    // The files travel over qemu-nbd: TLS with the move's own certificates unless the caller turned it off (audit defect 4).
    const tls = (c.opts.tls ?? canEncrypt(d)) ? await makeTls(d, tlsDir, c.signal) : undefined;
    ready = checkReady(await d.peer.prepare({
      migrationId, mode: 'offline', source: await sourceFacts(d, undefined), vm: { id: rec.id, name, spec: await sentSpec(d, rec), state: rec.state },
      disks, features: [], timeoutSeconds: Math.ceil(c.plan.timeoutMs / 1000), ...(saveFileBytes !== undefined ? { saveFileBytes } : {}),
      ...(tls ? { tls: tls.wire } : {}), ...(await movedKeys(d, rec)),
    }), d.target, { migrationId, live: false, exports: [...disks.filter((x) => x.copy).map((x) => x.name), ...(saveFileBytes !== undefined ? [STATE_EXPORT] : [])] });
    c.m.phase = 'copying';
    const files = [...disks.filter((x) => x.copy).map((x) => [x.name, lplan.diskPaths[x.name]!, x.fileBytes] as const),
      ...(saveFileBytes !== undefined ? [[STATE_EXPORT, saveFile, saveFileBytes] as const] : [])];
    const total = files.reduce((a, f) => a + f[2], 0) || 1;
    let done = 0;
    for (const [exp, file, bytes] of files) {
      const to = ready.nbd.find((n) => n.exportName === exp);
      if (!to) fail('MIGRATION_FAILED', `the target offered no export for ${exp}`);
      await copyFileToNbd(file, to, {
        signal: c.signal, ...(tls ? { tls: tls.files } : {}),
        onProgress: (f) => {
          c.m.disks = { doneBytes: done + f * bytes, totalBytes: total, readyDisks: 0, disks: files.length };
          c.onProgress?.(idleProgress('copying', Date.now() - t0, 0));
        },
      });
      done += bytes;
    }
  } catch (err) {
    if (ready) await d.peer.abort(migrationId, { name, id: rec.id }).catch(() => undefined);
    await rm(tlsDir, { recursive: true, force: true });
    throw err;
  }
  const commit = await d.peer.commit(migrationId).finally(() => rm(tlsDir, { recursive: true, force: true }));
  return {
    vm: name, state: commit.state, sourcePid: 0, targetPid: 0, wallMs: Date.now() - t0,
    stats: { totalTimeMs: Date.now() - t0, downtimeMs: 0, setupTimeMs: 0, transferredBytes: disks.reduce((a, x) => a + x.fileBytes, 0) + (saveFileBytes ?? 0), totalBytes: 0, iterations: 0, postcopy: false, cpuThrottlePercent: 0, mbps: 0 },
    policy: { downtimeLimitMs: 0, finalDowntimeLimitMs: 0, maxBandwidthBytesPerS: null, autoConverge: false, postcopy: 'off', multifdChannels: 1, xbzrle: false },
    explanation: `offline move of a ${rec.state} VM: ${disks.filter((x) => x.copy).length} disk file(s)${saveFileBytes !== undefined ? ' and the save file' : ''} copied byte for byte over NBD.`,
    warnings: [], mode: 'offline', target: { host: ready.host, url: d.target.url }, handoverMs: null, commitMs: null, copiedDisks: disks.filter((x) => x.copy).map((x) => x.name),
  };
}

/**
 * Before the lifecycle re-adopts VMs: a VM whose directory holds the outgoing
 * marker was being moved to another host when the daemon died. A stream
 * still running is cancelled (the guest runs on here; the target's QEMU exits
 * and its daemon removes the uncommitted side); a completed one stays
 * stopped, since only the target knows whether it took over.
 */
export async function recoverOutgoing(o: { vms: VmService; driver: Driver; logger: Logger }): Promise<void> {
  for (const rec of await o.vms.list()) {
    if (rec.state !== 'migrating') continue;
    const dir = o.vms.plan(rec).dir;
    const marker = path.join(dir, OUTGOING_MARKER);
    const text = await readFile(marker, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const outcome = canMigrateIn(o.driver) && o.driver.cancelOutgoing ? await o.driver.cancelOutgoing(dir) : 'none';
    if (outcome === 'completed') {
      // Kept for settleOutgoing, once the VM is re-adopted.
      o.logger.warn({ vm: rec.name, target: (JSON.parse(text) as OutgoingMarker).target }, 'a host-to-host move had sent everything when the daemon died: settling it with the target');
      continue;
    }
    await rm(marker, { force: true });
    o.logger.warn({ vm: rec.name, outcome }, 'cancelled a host-to-host move interrupted by a daemon restart: the VM keeps running here');
  }
}

/**
 * After re-adoption: a VM whose completed move the daemon did not see
 * through. The target still waits, the guest paused, for the commit: commit
 * now (the target owns the VM; the source copy goes), or, if the target has
 * given up meanwhile, resume the VM here (the target never ran it). When the
 * target cannot be asked, the VM is left in state error with the reason.
 */
export async function settleOutgoing(o: { vms: VmService; driver: Driver; logger: Logger; host: string; peers: PeerFactory }): Promise<string[]> {
  const settled: string[] = [];
  for (const rec0 of await o.vms.list()) {
    const dir = o.vms.plan(rec0).dir;
    const file = path.join(dir, OUTGOING_MARKER);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const mk = JSON.parse(text) as OutgoingMarker;
    const log = o.logger.child({ vm: rec0.name, target: mk.target, migrationId: mk.migrationId });
    try {
      if (!mk.ref || !mk.before) fail('MIGRATION_FAILED', 'the move was started by an older daemon that did not keep the target credentials');
      const d: HostMigrationDeps = { vms: o.vms, driver: o.driver, logger: o.logger, host: o.host, target: mk.ref, peer: o.peers(mk.ref) };
      const before = mk.before;
      const outcome = await o.vms.exclusive(rec0.name, async (rec, inst): Promise<'moved' | 'kept'> => {
        if (!inst) {
          await d.peer.commit(mk.migrationId); // the source QEMU is gone: only the target's copy can run
          return 'moved';
        }
        try {
          await commitOrResolve(d, rec, before, mk.migrationId, inst);
          return 'moved';
        } catch (err) {
          // The target had given up (it never ran the guest): commitOrResolve resumed it here.
          if ((await o.vms.get(rec.name)).state === before) return 'kept';
          throw err;
        }
      });
      if (outcome === 'moved') {
        await dropSourceCopy(o.vms, rec0.name, o.host);
        settled.push(rec0.name);
      }
      log.warn({ outcome }, outcome === 'moved' ? 'the target took the VM over: the source copy is removed' : 'the target had given the move up: the VM runs on here');
    } catch (err) {
      log.error({ err }, 'could not settle the interrupted move with the target');
      await o.vms.exclusive(rec0.name, async (rec) => {
        if (rec.state !== 'error') await o.vms.states.set(rec, 'error', `a move to ${mk.target} was interrupted after the stream completed and could not be settled (${(err as Error).message}); check the target before starting this copy`);
      }).catch(() => undefined);
    } finally {
      await rm(file, { force: true });
      await rm(path.join(dir, `migration-tls-${mk.migrationId}`), { recursive: true, force: true });
    }
  }
  return settled;
}
