import path from 'node:path';
import { safeJoin } from '../shared/index.js';

/** Where a VM's runtime files and created disks live: <vmsDir>/<id>/ (ids never collide, names may be reused). */
export function vmDir(vmsDir: string, id: string): string {
  return safeJoin(vmsDir, path.basename(id));
}
