/** Where each disk of a VM lives, and whether the images a user named are usable. */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { PolyvisorError, safeJoin } from '../shared/index.js';
import type { DiskSpec, VmSpec } from '../spec/index.js';

/** Folder under the VM directory holding the images Polyvisor creates. */
export const DISKS_DIR = 'disks';

/** `<vmDir>/disks/<name>.<format>` for a size-given disk. Pure. */
export function managedDiskPath(disk: Pick<DiskSpec, 'name' | 'format'>, vmDir: string): string {
  return safeJoin(vmDir, DISKS_DIR, `${disk.name}.${disk.format}`);
}

/**
 * Absolute image path of every disk, by disk name: a disk given by `path`
 * keeps it; a disk given by `size` lives in the VM directory. Pure.
 */
export function resolveDiskPaths(spec: VmSpec, vmDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of spec.disks) out[d.name] = d.path ?? managedDiskPath(d, vmDir);
  return out;
}

/**
 * Checks that every disk given by `path` exists, is a regular file and can be
 * read (and written, unless the disk is read-only or a cdrom). Reports every
 * problem at once as FILE_NOT_FOUND with the list in `details`.
 */
export async function checkDiskSources(spec: VmSpec): Promise<void> {
  const problems: { disk: string; path: string; problem: string }[] = [];
  for (const d of spec.disks) {
    if (d.path === undefined) continue;
    const problem = await sourceProblem(d.path, !d.readOnly && d.media === 'disk');
    if (problem !== undefined) problems.push({ disk: d.name, path: d.path, problem });
  }
  if (problems.length === 0) return;
  const msg = problems.map((p) => `disk ${p.disk}: ${p.path} ${p.problem}`).join('; ');
  throw new PolyvisorError('FILE_NOT_FOUND', msg, { details: problems });
}

async function sourceProblem(file: string, writable: boolean): Promise<string | undefined> {
  try {
    const st = await stat(file);
    if (!st.isFile()) return 'is not a regular file';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `cannot be read (${code})`;
  }
  try {
    await access(file, writable ? constants.R_OK | constants.W_OK : constants.R_OK);
  } catch {
    return writable ? 'is not readable and writable by the daemon (or set readOnly: true)' : 'is not readable by the daemon';
  }
  return undefined;
}
