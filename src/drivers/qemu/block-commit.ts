/**
 * Active commit: the disk's active overlay is written down into its backing
 * image and QEMU then pivots to that image, so deleting an external snapshot
 * costs what changed since it (the overlay), not the size of the base that a
 * block-stream would copy up. The job is followed by its QMP events
 * (BLOCK_JOB_READY, BLOCK_JOB_COMPLETED); query-block-jobs only feeds the
 * stall deadline and progress.
 *
 * Dirty bitmaps: the persistent backup bitmaps live on the active overlay
 * (external snapshots move them there) and would go with it. Before the job
 * starts each one is copied, non-persistent, onto the base (a read-only node
 * may carry those); from then on every guest write reaches the base through
 * the commit and is tracked there. After the pivot one transaction per bitmap
 * makes it persistent again under its own name, so the next backup stays
 * incremental (it may copy the overlay's clusters once more: a superset, never
 * less).
 *
 * A daemon killed during the job leaves it in QEMU: the next call finds the
 * job (id prefix) on the same disk and finishes it instead of starting another.
 */
import type { QmpClient, QmpEvent } from '../../qmp/index.js';
import { PolyvisorError, sleep } from '../../shared/index.js';
import type { CommitRequest } from '../snapshots.js';
import { diskChain } from './block-graph.js';
import { JOB_OUTER_LIMIT_MS, watchBlockJobs } from './block-job-watch.js';

const PREFIX = 'pvcm';
/** Suffix of the persistent copy a bitmap has for the instant between the two transactions. */
const SWAP = '-pvcm';

interface JobInfo { device: string; status?: string; ready?: boolean }
interface NamedNode { 'node-name': string; drv?: string; 'dirty-bitmaps'?: Array<{ name: string; persistent?: boolean; granularity?: number }> }

const jobOfDisk = (disk: string) => `${PREFIX}${disk.replace(/[^A-Za-z0-9]/g, '')}`.slice(0, 28);

export async function commitActive(qmp: QmpClient, r: CommitRequest, signal: AbortSignal): Promise<void> {
  const id = jobOfDisk(r.disk);
  const what = `active commit on disk ${r.disk}`;
  try {
    const ready = qmp.once('BLOCK_JOB_READY', { signal, timeoutMs: JOB_OUTER_LIMIT_MS, filter: (e) => deviceOf(e) === id });
    const done = qmp.once('BLOCK_JOB_COMPLETED', { signal, timeoutMs: JOB_OUTER_LIMIT_MS, filter: (e) => deviceOf(e) === id });
    ready.catch(() => undefined);
    done.catch(() => undefined);
    const left = (await qmp.execute<JobInfo[]>('query-block-jobs', undefined, { signal })).find((j) => j.device === id);
    // while a commit job runs, QEMU puts its filter node (driver commit_top) above the overlay: skip it
    const filters = new Set((await qmp.execute<NamedNode[]>('query-named-block-nodes', { flat: true }, { signal })).filter((n) => n.drv === 'commit_top' || n.drv === 'mirror_top').map((n) => n['node-name']));
    const [top, base] = (await diskChain(qmp, r.disk, signal)).filter((n) => !filters.has(n));
    if (top === undefined || base === undefined) throw new Error(`disk ${r.disk} has no backing image to commit into`);
    if (!left) { // else a job an earlier daemon started: the bitmaps are on the base already
      await copyBitmapsDown(qmp, top, base, signal);
      await qmp.execute('block-commit', { 'job-id': id, device: top, 'base-node': base, 'auto-dismiss': true }, { signal });
    }
    if (!(left?.ready ?? false)) await watchBlockJobs(qmp, [id], ready, signal, { what });
    await r.beforeComplete?.();
    await qmp.execute('block-job-complete', { device: id }, { signal });
    const ev = await watchBlockJobs(qmp, [id], done, signal, { what });
    const error = (ev.data as { error?: string }).error;
    if (error) throw new Error(error);
    // the overlay's node was added with blockdev-add: it stays (holding the base as its backing) until deleted
    await dropNode(qmp, top, signal);
    await persistBitmaps(qmp, base, signal);
  } catch (err) {
    throw new PolyvisorError('SNAPSHOT_FAILED', `${what}: ${(err as Error).message}`, { cause: err });
  }
}

/** blockdev-del of a node the graph no longer uses; QEMU may still hold it for a moment while the finished job is dismissed. */
async function dropNode(qmp: QmpClient, node: string, signal: AbortSignal): Promise<void> {
  for (let i = 0; ; i++) {
    const nodes = await qmp.execute<NamedNode[]>('query-named-block-nodes', { flat: true }, { signal });
    if (!nodes.some((n) => n['node-name'] === node)) return;
    try {
      await qmp.execute('blockdev-del', { 'node-name': node }, { signal });
      return;
    } catch (err) {
      if (i >= 50) throw new Error(`the committed overlay's node ${node} cannot be closed: ${(err as Error).message}`, { cause: err });
      await sleep(20, signal);
    }
  }
}

const deviceOf = (e: QmpEvent): string | undefined => (e.data as { device?: string }).device;

async function bitmapsOf(qmp: QmpClient, node: string, signal: AbortSignal): Promise<NonNullable<NamedNode['dirty-bitmaps']>> {
  const all = await qmp.execute<NamedNode[]>('query-named-block-nodes', { flat: true }, { signal });
  return all.find((n) => n['node-name'] === node)?.['dirty-bitmaps'] ?? [];
}

async function copyBitmapsDown(qmp: QmpClient, top: string, base: string, signal: AbortSignal): Promise<void> {
  const have = new Set((await bitmapsOf(qmp, base, signal)).map((b) => b.name));
  const actions = (await bitmapsOf(qmp, top, signal)).filter((b) => b.persistent && !have.has(b.name)).flatMap((b) => [
    { type: 'block-dirty-bitmap-add', data: { node: base, name: b.name, persistent: false, ...(b.granularity ? { granularity: b.granularity } : {}) } },
    { type: 'block-dirty-bitmap-merge', data: { node: base, target: b.name, bitmaps: [{ node: top, name: b.name }] } },
  ]);
  if (actions.length > 0) await qmp.execute('transaction', { actions }, { signal });
}

/** The base is the active node now (read-write): its non-persistent copies become persistent bitmaps of the same name. */
async function persistBitmaps(qmp: QmpClient, node: string, signal: AbortSignal): Promise<void> {
  for (const b of await bitmapsOf(qmp, node, signal)) {
    if (b.persistent || b.name.endsWith(SWAP)) continue;
    const g = b.granularity ? { granularity: b.granularity } : {};
    const tmp = `${b.name}${SWAP}`;
    await qmp.execute('transaction', { actions: [
      { type: 'block-dirty-bitmap-add', data: { node, name: tmp, persistent: true, ...g } },
      { type: 'block-dirty-bitmap-merge', data: { node, target: tmp, bitmaps: [{ node, name: b.name }] } },
      { type: 'block-dirty-bitmap-remove', data: { node, name: b.name } },
    ] }, { signal });
    await qmp.execute('transaction', { actions: [
      { type: 'block-dirty-bitmap-add', data: { node, name: b.name, persistent: true, ...g } },
      { type: 'block-dirty-bitmap-merge', data: { node, target: b.name, bitmaps: [{ node, name: tmp }] } },
      { type: 'block-dirty-bitmap-remove', data: { node, name: tmp } },
    ] }, { signal });
  }
}
