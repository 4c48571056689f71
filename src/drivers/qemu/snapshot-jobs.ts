/**
 * Internal snapshots over QMP. snapshot-save/-load/-delete run as jobs: we
 * listen for JOB_STATUS_CHANGE before starting one, wait for `concluded`,
 * read its error from query-jobs and dismiss it. QEMU refuses snapshot-load
 * while a disk has a dirty bitmap (and a failed load leaves the VM in
 * `restore-vm`), so loadSnapshot removes every bitmap first and re-creates
 * it (empty, same name and persistence) afterwards.
 */
import type { QmpClient } from '../../qmp/index.js';
import { isPolyvisorError, PolyvisorError, newId } from '../../shared/index.js';
import type { LoadSnapshotResult } from '../snapshots.js';
import { activeNodes } from './block-graph.js';

/**
 * A snapshot job's limit follows its work: the guest's RAM (the vmstate a
 * save writes or a load reads) at no less than SNAPSHOT_MIN_RATE, and never
 * less than SNAPSHOT_MIN_MS. QEMU's job progress for these jobs is 0 or all,
 * so there is no rate to measure on the way.
 */
export const SNAPSHOT_MIN_MS = 2 * 60_000;
const SNAPSHOT_MIN_RATE = 4 * 1024 ** 2;

export function snapshotJobLimitMs(workBytes: number): number {
  return Math.max(SNAPSHOT_MIN_MS, Math.ceil((workBytes / SNAPSHOT_MIN_RATE) * 1000));
}

interface JobInfo { id: string; status: string; error?: string; 'current-progress'?: number; 'total-progress'?: number }
interface Bitmap { name: string; persistent?: boolean; granularity?: number }
interface NamedNode { 'node-name': string; 'dirty-bitmaps'?: Bitmap[] }


async function runJob(qmp: QmpClient, command: string, args: Record<string, unknown>, signal: AbortSignal, workBytes: number): Promise<void> {
  const id = newId(`pv-${command}`);
  const limitMs = snapshotJobLimitMs(workBytes);
  const t0 = Date.now();
  const done = qmp.once('JOB_STATUS_CHANGE', {
    signal, timeoutMs: limitMs, filter: (e) => { const d = e.data as { id?: string; status?: string }; return d.id === id && d.status === 'concluded'; },
  });
  done.catch(() => undefined);
  await qmp.execute(command, { 'job-id': id, ...args }, { signal });
  try {
    await done;
  } catch (err) {
    if (!isPolyvisorError(err, 'TIMEOUT')) throw err;
    const job = (await qmp.execute<JobInfo[]>('query-jobs', undefined, { timeoutMs: 5_000 }).catch(() => [])).find((j) => j.id === id);
    const seen = job ? `job ${job.status}, progress ${job['current-progress'] ?? 0}/${job['total-progress'] ?? 0}` : 'the job is not listed';
    throw new PolyvisorError('TIMEOUT', `${command}: not done after ${Math.round((Date.now() - t0) / 1000)} s (the limit for ${(workBytes / 1024 ** 2).toFixed(0)} MiB of guest state); last seen: ${seen}`, { cause: err });
  }
  const jobs = await qmp.execute<JobInfo[]>('query-jobs', undefined, { signal });
  const job = jobs.find((j) => j.id === id);
  await qmp.execute('job-dismiss', { id }, { signal }).catch(() => undefined);
  if (job?.error) throw new PolyvisorError('SNAPSHOT_FAILED', `${command}: ${job.error}`);
}

/** `ramBytes`: the guest's memory, which the save writes (its limit follows it). */
export async function saveSnapshot(qmp: QmpClient, tag: string, disks: readonly string[], signal: AbortSignal, ramBytes = 0): Promise<void> {
  const nodes = await activeNodes(qmp, disks, signal);
  await runJob(qmp, 'snapshot-save', { tag, vmstate: nodes[0], devices: nodes }, signal, ramBytes);
}

export async function deleteSnapshot(qmp: QmpClient, tag: string, disks: readonly string[], signal: AbortSignal): Promise<void> {
  await runJob(qmp, 'snapshot-delete', { tag, devices: await activeNodes(qmp, disks, signal) }, signal, 0);
}

export async function loadSnapshot(qmp: QmpClient, tag: string, disks: readonly string[], signal: AbortSignal, ramBytes = 0): Promise<LoadSnapshotResult> {
  const nodes = await activeNodes(qmp, disks, signal);
  const all = await qmp.execute<NamedNode[]>('query-named-block-nodes', { flat: true }, { signal });
  const removed: Array<{ node: string; bitmap: Bitmap }> = [];
  for (const n of all) {
    if (!nodes.includes(n['node-name'])) continue;
    for (const b of n['dirty-bitmaps'] ?? []) {
      await qmp.execute('block-dirty-bitmap-remove', { node: n['node-name'], name: b.name }, { signal });
      removed.push({ node: n['node-name'], bitmap: b });
    }
  }
  try {
    await runJob(qmp, 'snapshot-load', { tag, vmstate: nodes[0], devices: nodes }, signal, ramBytes);
  } finally {
    for (const { node, bitmap } of removed) {
      await qmp.execute('block-dirty-bitmap-add', {
        node, name: bitmap.name, persistent: bitmap.persistent ?? false, ...(bitmap.granularity ? { granularity: bitmap.granularity } : {}),
      }, { signal }).catch(() => undefined);
    }
  }
  return { bitmapsReset: removed.map((r) => r.bitmap.name) };
}

/** Disk-only internal snapshots of every disk in one transaction (all or none). */
export async function diskSnapshot(qmp: QmpClient, tag: string, disks: readonly string[], signal: AbortSignal): Promise<void> {
  const actions = (await activeNodes(qmp, disks, signal)).map((device) => ({ type: 'blockdev-snapshot-internal-sync', data: { device, name: tag } }));
  try {
    await qmp.execute('transaction', { actions }, { signal });
  } catch (err) {
    throw new PolyvisorError('SNAPSHOT_FAILED', `disk snapshot ${tag}: ${(err as Error).message}`, { cause: err });
  }
}
