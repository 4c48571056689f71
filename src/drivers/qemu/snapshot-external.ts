/**
 * External (overlay) snapshots over QMP. The caller has already created
 * each overlay file (qcow2, backing = the file that becomes the snapshot);
 * we open it with `backing: null`, then one `transaction` moves every dirty
 * bitmap of the active node into the overlay (so backups stay incremental)
 * and runs `blockdev-snapshot` for all disks at the same instant. Deleting
 * a node merges with `block-stream` into the image above it in the chain.
 */
import type { QmpClient } from '../../qmp/index.js';
import { PolyvisorError, newId } from '../../shared/index.js';
import type { ExternalOverlay, StreamRequest } from '../snapshots.js';
import { diskChain } from './block-graph.js';
import { diskNodes } from './names.js';
import { JOB_OUTER_LIMIT_MS, watchBlockJobs } from './block-job-watch.js';

interface NamedNode { 'node-name': string; 'dirty-bitmaps'?: Array<{ name: string; persistent?: boolean; granularity?: number }> }

export async function externalSnapshot(qmp: QmpClient, overlays: readonly ExternalOverlay[], signal: AbortSignal): Promise<void> {
  const tag = newId('ov').replace(/-/g, '').slice(0, 24);
  const added: string[] = [];
  try {
    const all = await qmp.execute<NamedNode[]>('query-named-block-nodes', { flat: true }, { signal });
    const actions: Array<{ type: string; data: Record<string, unknown> }> = [];
    for (const [i, o] of overlays.entries()) {
      const node = `${tag}o${i}`;
      const encrypt = o.encrypted ? { encrypt: { format: 'luks', 'key-secret': diskNodes(o.disk).secret } } : {};
      await qmp.execute('blockdev-add', { driver: 'qcow2', 'node-name': node, backing: null, file: { driver: 'file', filename: o.file }, ...encrypt }, { signal });
      added.push(node);
      const active = (await diskChain(qmp, o.disk, signal))[0]!;
      for (const b of all.find((n) => n['node-name'] === active)?.['dirty-bitmaps'] ?? []) {
        actions.push({ type: 'block-dirty-bitmap-add', data: { node, name: b.name, persistent: b.persistent ?? false, ...(b.granularity ? { granularity: b.granularity } : {}) } });
        actions.push({ type: 'block-dirty-bitmap-merge', data: { node, target: b.name, bitmaps: [{ node: active, name: b.name }] } });
        // Moved, not copied: QEMU 7.2 cannot describe a read-only backing node that keeps a dirty persistent bitmap
        // (query-named-block-nodes fails with "Bitmap '' doesn't satisfy the constraints").
        actions.push({ type: 'block-dirty-bitmap-remove', data: { node: active, name: b.name } });
      }
      actions.push({ type: 'blockdev-snapshot', data: { node: active, overlay: node } });
    }
    await qmp.execute('transaction', { actions }, { signal });
  } catch (err) {
    for (const n of added) await qmp.execute('blockdev-del', { 'node-name': n }).catch(() => undefined);
    throw new PolyvisorError('SNAPSHOT_FAILED', `external snapshot: ${(err as Error).message}`, { cause: err });
  }
}

/** The file under the disk's active format node (query-block). */
export async function activeFile(qmp: QmpClient, disk: string, signal: AbortSignal): Promise<string> {
  const dev = diskNodes(disk).device;
  const blocks = await qmp.execute<Array<{ qdev?: string; inserted?: { file: string } }>>('query-block', undefined, { signal });
  const b = blocks.find((x) => x.qdev === dev || x.qdev?.startsWith(`/machine/peripheral/${dev}/`));
  if (!b?.inserted) throw new PolyvisorError('SNAPSHOT_FAILED', `disk ${disk} is not attached to the running VM`);
  // A node opened with blockdev-add and given a backing later is described as json:{…, "file": {"filename": …}}.
  if (!b.inserted.file.startsWith('json:')) return b.inserted.file;
  const j = JSON.parse(b.inserted.file.slice(5)) as { file?: { filename?: string } };
  if (!j.file?.filename) throw new PolyvisorError('SNAPSHOT_FAILED', `disk ${disk}: cannot tell which file QEMU writes (${b.inserted.file.slice(0, 200)})`);
  return j.file.filename;
}

/**
 * block-stream into the image at `index` of the disk's chain (0 = active):
 * the data of the image below it is copied up, and its backing becomes the
 * image two below (`backingFile`), or nothing when there is none.
 */
export async function streamDisk(qmp: QmpClient, r: StreamRequest, signal: AbortSignal): Promise<void> {
  const chain = await diskChain(qmp, r.disk, signal);
  const top = chain[r.index];
  if (top === undefined || chain[r.index + 1] === undefined) throw new PolyvisorError('SNAPSHOT_FAILED', `disk ${r.disk}: image ${r.index} of the chain has no backing to merge`);
  const base = r.backingFile === null ? undefined : chain[r.index + 2];
  if (r.backingFile !== null && base === undefined) throw new PolyvisorError('SNAPSHOT_FAILED', `disk ${r.disk}: the chain QEMU has open is shorter than the one on disk`);
  const id = `${newId('st').replace(/-/g, '').slice(0, 20)}`;
  const done = qmp.once('BLOCK_JOB_COMPLETED', { signal, timeoutMs: JOB_OUTER_LIMIT_MS, filter: (e) => (e.data as { device?: string }).device === id });
  done.catch(() => undefined);
  try {
    await qmp.execute('block-stream', { 'job-id': id, device: top, ...(base ? { 'base-node': base, 'backing-file': r.backingFile } : {}) }, { signal });
    const ev = await watchBlockJobs(qmp, [id], done, signal, { what: `block-stream on disk ${r.disk}` });
    const error = (ev.data as { error?: string }).error;
    if (error) throw new Error(error);
  } catch (err) {
    throw new PolyvisorError('SNAPSHOT_FAILED', `block-stream on disk ${r.disk}: ${(err as Error).message}`, { cause: err });
  }
}
