/**
 * Backups over QMP: each target image is opened as a node (backing: null, so
 * an incremental target writes only the copied clusters and reads nothing),
 * then one `transaction` adds the new persistent bitmap and starts every
 * blockdev-backup job at the same instant. Incrementals use sync=bitmap with
 * bitmap-mode=never: the old bitmap is only dropped by the caller after the
 * catalogue row is written, so a crash never loses track of changes.
 */
import { diskNodes } from './names.js';
import type { QmpClient } from '../../qmp/index.js';
import { PolyvisorError, newId, sleep } from '../../shared/index.js';
import type { BackupJob, DiskBitmap } from '../backups.js';
import { JOB_OUTER_LIMIT_MS, watchBlockJobs } from './block-job-watch.js';
import { activeNodes } from './block-graph.js';

/** Job ids and target node names of our backups start with this. */
const PREFIX = 'pvbk';

interface NamedNode { 'node-name': string; 'dirty-bitmaps'?: Array<{ name: string; persistent?: boolean; inconsistent?: boolean }> }

export async function listBitmaps(qmp: QmpClient, disks: readonly string[], signal: AbortSignal): Promise<Record<string, DiskBitmap[]>> {
  const nodes = await qmp.execute<NamedNode[]>('query-named-block-nodes', { flat: true }, { signal });
  const active = await activeNodes(qmp, disks, signal);
  const out: Record<string, DiskBitmap[]> = {};
  for (const [i, d] of disks.entries()) {
    const n = nodes.find((x) => x['node-name'] === active[i]);
    out[d] = (n?.['dirty-bitmaps'] ?? []).map((b) => ({ name: b.name, persistent: b.persistent ?? false, inconsistent: b.inconsistent ?? false }));
  }
  return out;
}

export async function removeBitmap(qmp: QmpClient, disk: string, name: string, signal: AbortSignal): Promise<void> {
  await qmp.execute('block-dirty-bitmap-remove', { node: (await activeNodes(qmp, [disk], signal))[0], name }, { signal });
}

/**
 * A daemon killed during a backup leaves its job running and its target nodes
 * open in QEMU (which blocks a new job on the same disk): cancel and close them.
 */
async function cleanupLeftovers(qmp: QmpClient, signal: AbortSignal): Promise<void> {
  const ours = async () => (await qmp.execute<Array<{ device: string }>>('query-block-jobs', undefined, { signal })).filter((j) => j.device.startsWith(PREFIX));
  for (const j of await ours()) await qmp.execute('block-job-cancel', { device: j.device, force: true }, { signal }).catch(() => undefined);
  for (let i = 0; (await ours()).length > 0; i++) {
    if (i > 600) throw new PolyvisorError('BACKUP_FAILED', 'a backup job left by an earlier run does not go away');
    await sleep(50, signal);
  }
  const nodes = await qmp.execute<NamedNode[]>('query-named-block-nodes', { flat: true }, { signal });
  for (const n of nodes) if (n['node-name'].startsWith(PREFIX) && /t\d+$/.test(n['node-name'])) await qmp.execute('blockdev-del', { 'node-name': n['node-name'] }, { signal }).catch(() => undefined);
}

export async function backupDisks(qmp: QmpClient, job: BackupJob, signal: AbortSignal): Promise<void> {
  await cleanupLeftovers(qmp, signal);
  const disks = Object.keys(job.targets);
  const tag = newId(PREFIX).replace(/-/g, '');
  const targetNode = (i: number) => `${tag}t${i}`;
  const added: string[] = [];
  const jobIds = disks.map((_, i) => `${tag}j${i}`);
  try {
    for (const [i, d] of disks.entries()) {
      await qmp.execute('blockdev-add', {
        driver: 'qcow2', 'node-name': targetNode(i), backing: null,
        file: { driver: 'file', filename: job.targets[d]! },
        ...(job.encrypted?.includes(d) ? { encrypt: { format: 'luks', 'key-secret': diskNodes(d).secret } } : {}),
      }, { signal });
      added.push(targetNode(i));
    }
    const done = jobIds.map((id) => qmp.once('BLOCK_JOB_COMPLETED', { signal, timeoutMs: JOB_OUTER_LIMIT_MS, filter: (e) => (e.data as { device?: string }).device === id }));
    for (const p of done) p.catch(() => undefined);
    const active = await activeNodes(qmp, disks, signal);
    const actions = disks.flatMap((_d, i) => {
      const node = active[i]!;
      return [
        { type: 'block-dirty-bitmap-add', data: { node, name: job.newBitmap, persistent: true } },
        {
          type: 'blockdev-backup', data: {
            'job-id': jobIds[i], device: node, target: targetNode(i), ...(job.speed ? { speed: job.speed } : {}),
            ...(job.sync === 'full' ? { sync: 'full' } : { sync: 'bitmap', bitmap: job.fromBitmap, 'bitmap-mode': 'never' }),
          },
        },
      ];
    });
    await qmp.execute('transaction', { actions }, { signal });
    const events = await watchBlockJobs(qmp, jobIds, Promise.all(done), signal, { what: `backup of ${disks.join(', ')}`, ...(job.onProgress ? { onProgress: job.onProgress } : {}) });
    const failed = events.map((e) => (e.data as { error?: string }).error).filter((x) => x !== undefined);
    if (failed.length > 0) {
      for (const d of disks) await removeBitmap(qmp, d, job.newBitmap, signal).catch(() => undefined);
      throw new PolyvisorError('BACKUP_FAILED', `backup job failed: ${failed.join('; ')}`);
    }
  } catch (err) {
    for (const id of jobIds) await qmp.execute('block-job-cancel', { device: id, force: true }).catch(() => undefined);
    if (err instanceof PolyvisorError && err.code === 'BACKUP_FAILED') throw err;
    throw new PolyvisorError('BACKUP_FAILED', `backup: ${(err as Error).message}`, { cause: err });
  } finally {
    for (const n of added) await qmp.execute('blockdev-del', { 'node-name': n }).catch(() => undefined);
  }
}
