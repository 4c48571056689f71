/** Sizes shown in the snapshot list: bytes of an external node's files. */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { resolveDiskPaths } from '../storage/index.js';
import type { VmRecord } from '../store/index.js';
import type { SnapshotNode } from './snapshot-catalogue.js';

export async function fileBytes(dir: string, rec: VmRecord, n: SnapshotNode): Promise<number> {
  if (!n.files) return 0;
  const paths = resolveDiskPaths(rec.spec, dir);
  let total = 0;
  for (const [disk, file] of Object.entries(n.files)) {
    const active = paths[disk];
    if (active !== undefined) total += (await stat(path.join(path.dirname(active), file)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
