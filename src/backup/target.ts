/**
 * Where backups go. A target stores, per VM, disk images and one JSON record
 * per backup; the record is written last (atomically), so a backup without a
 * record did not finish and its files are garbage. LocalDirTarget keeps them
 * in <dir>/<vm id>/; a remote target can implement the same interface by
 * staging images locally and uploading them in commit().
 */
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { safeJoin, validateName, writeFileAtomic } from '../shared/index.js';
import type { BackupRecord } from './record.js';

export interface BackupTarget {
  readonly description: string;
  /** Records of one VM (by VM id), oldest first. */
  list(vmId: string): Promise<BackupRecord[]>;
  /** Absolute path where a disk image of backup `id` is written (and read back). */
  filePath(vmId: string, name: string): Promise<string>;
  /** Makes the backup visible: writes its record. */
  commit(record: BackupRecord): Promise<void>;
  /** Removes a backup's record first, then its files. */
  remove(record: BackupRecord): Promise<void>;
  /** Deletes files no record refers to (left by backups that did not finish). */
  sweep(vmId: string): Promise<string[]>;
  /** What the VM's place at the target is right now (changes when it is removed or unmounted); undefined when it is gone. */
  identity(vmId: string): Promise<string | undefined>;
}

export class LocalDirTarget implements BackupTarget {
  readonly description: string;

  constructor(private readonly dir: string) {
    this.description = `local directory ${dir}`;
  }

  private async vmDir(vmId: string): Promise<string> {
    const d = safeJoin(this.dir, path.basename(vmId));
    await mkdir(d, { recursive: true, mode: 0o750 });
    return d;
  }

  async list(vmId: string): Promise<BackupRecord[]> {
    const d = await this.vmDir(vmId);
    const out: BackupRecord[] = [];
    for (const f of (await readdir(d)).filter((x) => x.endsWith('.json') && !x.startsWith('.')).sort()) {
      out.push(JSON.parse(await readFile(path.join(d, f), 'utf8')) as BackupRecord);
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async filePath(vmId: string, name: string): Promise<string> {
    return safeJoin(await this.vmDir(vmId), path.basename(name));
  }

  async commit(r: BackupRecord): Promise<void> {
    validateName(r.id, 'backup id');
    await writeFileAtomic(path.join(await this.vmDir(r.vmId), `${r.id}.json`), JSON.stringify(r, null, 2) + '\n', 0o640);
  }

  async remove(r: BackupRecord): Promise<void> {
    const d = await this.vmDir(r.vmId);
    await rm(path.join(d, `${r.id}.json`), { force: true });
    for (const f of r.disks) await rm(path.join(d, path.basename(f.file)), { force: true });
  }

  async identity(vmId: string): Promise<string | undefined> {
    const st = await stat(safeJoin(this.dir, path.basename(vmId))).catch(() => undefined);
    return st ? `${st.dev}:${st.ino}` : undefined;
  }

  async sweep(vmId: string): Promise<string[]> {
    const d = await this.vmDir(vmId);
    const known = new Set<string>();
    for (const r of await this.list(vmId)) {
      known.add(`${r.id}.json`);
      for (const f of r.disks) known.add(f.file);
    }
    const gone: string[] = [];
    for (const f of await readdir(d)) {
      if (known.has(f)) continue;
      await rm(path.join(d, f), { force: true });
      gone.push(f);
    }
    return gone;
  }
}
