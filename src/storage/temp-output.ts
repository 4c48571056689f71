/**
 * Writes an image under a temp name beside its destination and moves it into
 * place only when complete (DESIGN rule 8), so a crash, failure or abort never
 * leaves a half-written image under the real name.
 */
import { link, lstat, open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PolyvisorError, fail, fsyncDir } from '../shared/index.js';

export interface CommitOptions {
  /** Replace an existing destination (default: refuse, never clobber an image). */
  overwrite?: boolean;
}

/** Temp files are `.<name>.<random>.tmp` in the destination's directory. */
export function tempNameFor(dest: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Removes temp files of `dest` left by a process that died while writing it (a crash skips writeViaTemp's cleanup). */
async function removeTempsOf(dest: string): Promise<string[]> {
  const dir = path.dirname(dest);
  const prefix = `.${path.basename(dest)}.`;
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(prefix) && n.endsWith('.tmp'));
  for (const n of names) await unlink(path.join(dir, n)).catch(() => undefined);
  return names;
}

/**
 * Calls `write(tmp)`, then fsyncs and moves the result to `dest`. The temp
 * file is removed if `write` or the move fails, and temp files of `dest` that
 * a killed process left are removed first; filesystem errors become
 * DISK_CREATE_FAILED.
 */
export async function writeViaTemp(dest: string, opts: CommitOptions, write: (tmp: string) => Promise<void>): Promise<void> {
  if (!opts.overwrite && (await exists(dest))) fail('DISK_CREATE_FAILED', `${dest} already exists`, { hint: 'Remove it first, or choose another destination.' });
  await removeTempsOf(dest); // a daemon killed while writing `dest` before: the next write clears what it left
  const tmp = tempNameFor(dest);
  try {
    await write(tmp);
    await fsyncFile(tmp);
    await commit(tmp, dest, opts.overwrite ?? false);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    if (err instanceof PolyvisorError) throw err;
    throw new PolyvisorError('DISK_CREATE_FAILED', `could not write ${dest}`, { cause: err });
  }
  await fsyncDir(path.dirname(dest));
}

async function commit(tmp: string, dest: string, overwrite: boolean): Promise<void> {
  if (overwrite) return rename(tmp, dest);
  try {
    await link(tmp, dest); // atomic and refuses an existing destination
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') fail('DISK_CREATE_FAILED', `${dest} already exists`, { cause: err, hint: 'Remove it first, or choose another destination.' });
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    // Filesystems without hard links: checked above, rename is the best we have.
    return rename(tmp, dest);
  }
  await unlink(tmp);
}

async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
