import { stat } from 'node:fs/promises';
import { fail } from '../shared/index.js';
import type { VmSpec } from '../spec/index.js';

/** Refuses a spec whose kernel or initrd is not a file (FILE_NOT_FOUND) before anything is created. */
export async function checkBootFiles(spec: VmSpec): Promise<void> {
  for (const [what, p] of [['boot.kernel', spec.boot.kernel], ['boot.initrd', spec.boot.initrd]] as const) {
    if (p === undefined) continue;
    const st = await stat(p).catch(() => undefined);
    if (!st?.isFile()) fail('FILE_NOT_FOUND', `${what} ${p} does not exist or is not a file`);
  }
}
