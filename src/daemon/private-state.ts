/**
 * Audit defect 11: the daemon's files are private by construction, not by the
 * luck of the state directory's mode. umask 077 for everything the daemon and
 * its children create; the state directory and its top folders 0700 even when
 * they existed with a looser mode; the SQLite files 0600 (SQLite gives its
 * -wal and -shm files the database file's mode); the unix socket bound inside
 * a 0700 directory (the socket itself is born 0600-ish under the umask, then
 * set to 0600 exactly).
 */
import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../shared/index.js';

export const PRIVATE_UMASK = 0o077;

export interface PrivatePaths {
  stateDir: string;
  vmsDir: string;
  cacheDir: string;
  dbFile: string;
  socket: string;
  /** The socket is shared with this group: its folder may be group-traversable (0710). */
  socketGroup?: string | undefined;
  /** QEMU runs as per-VM users of this shared group (qemuUser: per-vm): the state directory and vmsDir are root:GID 0710, traverse only. */
  qemuGid?: number | undefined;
}

/** Sets the process umask (the daemon's own process only: not in worker threads). */
export function setPrivateUmask(): void {
  process.umask(PRIVATE_UMASK);
}

export async function makeStatePrivate(p: PrivatePaths, logger?: Logger): Promise<void> {
  for (const dir of [p.stateDir, p.vmsDir, p.cacheDir]) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const traverse = p.qemuGid !== undefined && dir !== p.cacheDir;
    await tighten(dir, traverse ? 0o710 : 0o700, logger);
    if (traverse) {
      const st = await stat(dir);
      if (st.gid !== p.qemuGid) await chown(dir, st.uid, p.qemuGid!);
      if ((st.mode & 0o010) === 0) await chmod(dir, (st.mode & 0o700) | 0o010);
    }
  }
  for (const f of [p.dbFile, `${p.dbFile}-wal`, `${p.dbFile}-shm`]) await tighten(f, 0o600, logger);
  await socketDirPrivate(p, logger);
}

/**
 * The socket's folder: the state directory by default (0700 above). A socket
 * configured elsewhere gets its own folder created 0700; an existing folder
 * that others can enter is not changed (it may be shared, like /run) but named
 * in a warning: the socket itself still has mode 0600 from its creation on.
 */
async function socketDirPrivate(p: PrivatePaths, logger?: Logger): Promise<void> {
  const dir = path.dirname(p.socket);
  if (dir === p.stateDir) return;
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined) return;
  const st = await stat(dir);
  if ((st.mode & (p.socketGroup !== undefined ? 0o007 : 0o077)) !== 0) logger?.warn({ dir, mode: (st.mode & 0o777).toString(8) }, 'the unix socket\'s folder is open to other users; put the socket in a private folder (or leave the default in the state directory)');
}

/** Removes group and other bits from `file` if it exists. */
async function tighten(file: string, mode: number, logger?: Logger): Promise<void> {
  const st = await stat(file).catch(() => undefined);
  if (!st || (st.mode & 0o777 & ~mode) === 0) return;
  await chmod(file, mode);
  logger?.info({ file, from: (st.mode & 0o777).toString(8), to: mode.toString(8) }, 'made private');
}
