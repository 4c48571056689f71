/**
 * Finishing or undoing a same-host live migration that the daemon did not see
 * through (it was killed or crashed). Runs before adopt() reads the pidfile.
 * QEMU carries on with a migration without us, so on restart:
 *
 * - the target has loaded the VM (running or paused, not "inmigrate"): it
 *   owns the guest; stop the source (post-migrate) and commit the target's
 *   files, exactly as the daemon would have;
 * - otherwise the migration had not switched over: cancel it on the source
 *   (which then keeps running), kill the target, remove its dir.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { QmpClient } from '../../qmp/index.js';
import { timeoutSignal, type Logger } from '../../shared/index.js';
import type { LaunchPlan } from '../driver.js';
import { runtimeFiles } from './files.js';
import { commitIncomingFiles, incomingFiles, INCOMING_PREFIX } from './migrate-files.js';
import { isQemuOf, readPidFile, terminate } from './process.js';
import { undoOutgoing } from './migrate-source.js';

const LOADED = new Set(['running', 'paused']);

export async function recoverInterruptedMigration(plan: LaunchPlan, log: Logger): Promise<void> {
  const dir = path.resolve(plan.dir);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(INCOMING_PREFIX));
  for (const name of names) {
    const incDir = path.join(dir, name);
    const files = incomingFiles(dir, incDir);
    const targetPid = await readPidFile(files.pidFile);
    const sourcePid = await readPidFile(runtimeFiles(dir).pidFile);
    const targetAlive = targetPid !== undefined && (await isQemuOf(targetPid, plan.id));
    const sourceAlive = sourcePid !== undefined && sourcePid !== targetPid && (await isQemuOf(sourcePid, plan.id));
    // A crash halfway through a commit leaves the target's monitor already at the VM's usual path.
    const targetStatus = !targetAlive
      ? undefined
      : ((await statusOf(files.qmpSocket)) ?? (sourceAlive ? undefined : await statusOf(runtimeFiles(dir).qmpSocket)));
    if (targetAlive && targetStatus !== undefined && LOADED.has(targetStatus)) {
      if (sourceAlive) await terminate(sourcePid, plan.id, timeoutSignal(20_000));
      await commitIncomingFiles(dir, incDir, { resume: true });
      log.warn({ targetPid, sourcePid }, 'finished a live migration interrupted by a daemon restart: the target owns the VM');
      continue;
    }
    if (sourceAlive) await cancelOnSource(runtimeFiles(dir).qmpSocket, log);
    if (targetAlive) await terminate(targetPid, plan.id, timeoutSignal(20_000), 1_000);
    await rm(incDir, { recursive: true, force: true });
    log.warn({ targetPid, sourcePid, targetStatus }, 'rolled back a live migration interrupted by a daemon restart: the source keeps the VM');
  }
}

async function statusOf(qmpSocket: string): Promise<string | undefined> {
  let qmp: QmpClient | undefined;
  try {
    qmp = await QmpClient.connect(qmpSocket, { timeoutMs: 5_000 });
    return (await qmp.execute<{ status: string }>('query-status', undefined, { timeoutMs: 5_000 })).status;
  } catch {
    return undefined;
  } finally {
    qmp?.close();
  }
}

async function cancelOnSource(qmpSocket: string, log: Logger): Promise<void> {
  let qmp: QmpClient | undefined;
  try {
    qmp = await QmpClient.connect(qmpSocket, { timeoutMs: 5_000 });
    await qmp.execute('migrate_cancel', undefined, { timeoutMs: 5_000 });
    const signal = timeoutSignal(15_000);
    for (;;) {
      const q = await qmp.execute<{ status?: string }>('query-migrate', undefined, { signal });
      if (q.status === undefined || ['cancelled', 'failed', 'completed'].includes(q.status)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const { status } = await qmp.execute<{ status: string }>('query-status', undefined, { signal });
    if (status === 'postmigrate' || status === 'finish-migrate') await qmp.execute('cont', undefined, { signal });
  } catch (err) {
    log.warn({ err }, 'could not cancel the interrupted migration on the source');
  } finally {
    qmp?.close();
  }
}

/** A target that never took over (host-to-host, uncommitted): kill whatever QEMU runs for `vmId` in `dir` or its incoming dirs. */
export async function discardIncoming(dir: string, vmId: string): Promise<void> {
  const abs = path.resolve(dir);
  const names = (await readdir(abs).catch(() => [] as string[])).filter((n) => n.startsWith(INCOMING_PREFIX));
  for (const pidFile of [runtimeFiles(abs).pidFile, ...names.map((n) => incomingFiles(abs, path.join(abs, n)).pidFile)]) {
    const pid = await readPidFile(pidFile);
    if (pid !== undefined) await terminate(pid, vmId, timeoutSignal(20_000), 1_000);
  }
  for (const n of names) await rm(path.join(abs, n), { recursive: true, force: true });
}

/**
 * Source of a host-to-host move whose daemon died: cancel an outgoing stream
 * that is still running (the target's QEMU then exits and its daemon removes
 * the uncommitted side) and let the guest run on. A stream that completed is
 * left stopped: only the target can tell whether it took over.
 */
export async function cancelOutgoing(dir: string, log: Logger): Promise<'cancelled' | 'completed' | 'none'> {
  let qmp: QmpClient | undefined;
  try {
    qmp = await QmpClient.connect(runtimeFiles(path.resolve(dir)).qmpSocket, { timeoutMs: 5_000 });
    const q = await qmp.execute<{ status?: string }>('query-migrate', undefined, { timeoutMs: 10_000 });
    if (q.status === 'completed') return 'completed';
    if (q.status === undefined || ['cancelled', 'failed'].includes(q.status)) return 'none';
  } catch {
    return 'none';
  } finally {
    qmp?.close();
  }
  await cancelOnSource(runtimeFiles(path.resolve(dir)).qmpSocket, log);
  // What the move had set up on the source: disk mirrors to the target, capabilities, TLS.
  try {
    qmp = await QmpClient.connect(runtimeFiles(path.resolve(dir)).qmpSocket, { timeoutMs: 5_000 });
    await undoOutgoing(qmp, timeoutSignal(30_000));
  } catch (err) {
    log.warn({ err }, 'could not undo everything the interrupted move had set up on the source');
  } finally {
    qmp?.close();
  }
  return 'cancelled';
}
