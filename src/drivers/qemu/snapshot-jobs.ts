/**
 * Internal snapshots over QMP. snapshot-save/-load/-delete run as jobs: we
 * listen for JOB_STATUS_CHANGE before starting one, wait for `concluded`,
 * read its error from query-jobs and dismiss it. QEMU refuses snapshot-load
 * while a disk has a dirty bitmap (and a failed load leaves the VM in
 * `restore-vm`), so loadSnapshot removes every bitmap first and re-creates
 * it (empty, same name and persistence) afterwards.
 */
import type { QmpClient } from '../../qmp/index.js';
import { PolyvisorError, newId } from '../../shared/index.js';
import type { LoadSnapshotResult } from '../snapshots.js';
import { activeNodes } from './block-graph.js';

/** A RAM snapshot of a large guest under TCG can take a while. */
export const SNAPSHOT_JOB_TIMEOUT_MS = 10 * 60_000;

interface JobInfo { id: string; status: string; error?: string }
interface Bitmap { name: string; persistent?: boolean; granularity?: number }
interface NamedNode { 'node-name': string; 'dirty-bitmaps'?: Bitmap[] }


async function runJob(qmp: QmpClient, command: string, args: Record<string, unknown>, signal: AbortSignal): Promise<void> {
  const id = newId(`pv-${command}`);
  const done = qmp.once('JOB_STATUS_CHANGE', {
    signal, timeoutMs: SNAPSHOT_JOB_TIMEOUT_MS, filter: (e) => { const d = e.data as { id?: string; status?: string }; return d.id === id && d.status === 'concluded'; },
  });
  done.catch(() => undefined);
  await qmp.execute(command, { 'job-id': id, ...args }, { signal });
  await done;
  const jobs = await qmp.execute<JobInfo[]>('query-jobs', undefined, { signal });
  const job = jobs.find((j) => j.id === id);
  await qmp.execute('job-dismiss', { id }, { signal }).catch(() => undefined);
  if (job?.error) throw new PolyvisorError('SNAPSHOT_FAILED', `${command}: ${job.error}`);
}

export async function saveSnapshot(qmp: QmpClient, tag: string, disks: readonly string[], signal: AbortSignal): Promise<void> {
  const nodes = await activeNodes(qmp, disks, signal);
  await runJob(qmp, 'snapshot-save', { tag, vmstate: nodes[0], devices: nodes }, signal);
}

export async function deleteSnapshot(qmp: QmpClient, tag: string, disks: readonly string[], signal: AbortSignal): Promise<void> {
  await runJob(qmp, 'snapshot-delete', { tag, devices: await activeNodes(qmp, disks, signal) }, signal);
}

export async function loadSnapshot(qmp: QmpClient, tag: string, disks: readonly string[], signal: AbortSignal): Promise<LoadSnapshotResult> {
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
    await runJob(qmp, 'snapshot-load', { tag, vmstate: nodes[0], devices: nodes }, signal);
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
