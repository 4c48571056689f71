import { stat } from 'node:fs/promises';
import { fail } from '../shared/index.js';

/** Size of a regular file, or FILE_NOT_FOUND. */
export async function statSize(file: string): Promise<number> {
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) fail('FILE_NOT_FOUND', `${file} does not exist or is not a regular file`);
  return st.size;
}
