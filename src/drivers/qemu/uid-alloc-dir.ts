/**
 * The folder of QEMU uid allocations (vm-user.ts): a file per uid holding the
 * VM's id and directory. Several allocators may share it (the daemons of
 * cluster members whose vmsDir is one shared folder, each serializing its own
 * allocations), so every change is safe against another process doing the
 * same at the same moment:
 *
 * - an entry appears whole or not at all: written to a temporary file, then
 *   linked to its uid's name (link fails with EEXIST when the uid is taken:
 *   the same arbitration as O_EXCL, and atomic on NFS too);
 * - an entry is removed only under that uid's reclaim lock (`UID.reclaim`,
 *   O_EXCL), after reading it again there and finding it still stale, so two
 *   allocators that both saw a stale entry never remove the fresh one the
 *   first of them wrote. A lock left by a process killed in between is taken
 *   back after a minute.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface UidOwner {
  id: string;
  dir: string;
}

const STALE_LOCK_MS = 60_000;
const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

export class UidAllocDir {
  constructor(readonly dir: string) {}

  /**
   * Whether an entry's VM directory is gone (its VM was removed, on any member sharing the folder). Looked up
   * beside this folder (VMSDIR/ID), not at the path the entry names: a member that mounts the shared vmsDir at
   * another path must not take the entries of the others' VMs for stale.
   */
  readonly dirGone = async (o: UidOwner): Promise<boolean> => !(await exists(path.join(path.dirname(this.dir), path.basename(o.dir))));

  file(uid: number): string {
    return path.join(this.dir, String(uid));
  }

  /** Root's, 0700: QEMU passes the folder above (vmsDir, root:BASE 0710) but never reads this one. */
  async ensure(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  read(uid: number): Promise<UidOwner | undefined> {
    return readOwnerFile(this.file(uid));
  }

  async entries(): Promise<Map<number, UidOwner>> {
    const out = new Map<number, UidOwner>();
    for (const n of await readdir(this.dir).catch(() => [] as string[])) {
      if (!/^\d+$/.test(n)) continue;
      const owner = await this.read(Number(n));
      if (owner) out.set(Number(n), owner);
    }
    return out;
  }

  /** Gives `uid` to `owner` unless another holds it: true when it is now `owner`'s. */
  async create(uid: number, owner: UidOwner): Promise<boolean> {
    const tmp = path.join(this.dir, `.new.${uid}.${process.pid}.${randomBytes(6).toString('hex')}`);
    await writeFile(tmp, `${owner.id}\n${owner.dir}\n`, { mode: 0o600, flush: true });
    try {
      return await this.linkIn(tmp, uid);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Links an existing entry file (one of an older folder) in as `uid`: false when the uid is taken here. */
  async linkIn(file: string, uid: number): Promise<boolean> {
    return link(file, this.file(uid)).then(() => true, (err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') return false;
      throw err;
    });
  }

  /**
   * Removes `uid`'s entry if, read again under its reclaim lock, `stale(owner)` says so (or it is gone): true when
   * the uid is free now. False when the lock is another's (it is reclaiming the same uid) or the entry is live.
   */
  async takeBack(uid: number, stale: (o: UidOwner) => Promise<boolean>): Promise<boolean> {
    const lock = `${this.file(uid)}.reclaim`;
    const fh = await open(lock, 'wx', 0o600).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
      const st = await stat(lock).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > STALE_LOCK_MS) await rm(lock, { force: true }); // its holder died mid-reclaim
      return undefined;
    });
    if (!fh) return false;
    try {
      await fh.close();
      const raw = await readFile(this.file(uid), 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : ''));
      if (raw === undefined) return true;
      const owner = parse(raw);
      if (!owner || !(await stale(owner))) return false;
      await rm(this.file(uid), { force: true });
      return true;
    } finally {
      await rm(lock, { force: true });
    }
  }
}


/** An entry file's VM (undefined when the file is missing or not an entry). */
export async function readOwnerFile(file: string): Promise<UidOwner | undefined> {
  return parse(await readFile(file, 'utf8').catch(() => ''));
}

function parse(text: string): UidOwner | undefined {
  const [id, dir] = text.split('\n');
  return id && dir ? { id, dir } : undefined;
}
