/**
 * Upgrade of the QEMU uid allocations: a daemon before 2026-12-06 kept them
 * in its own STATE/qemu-uids; they live in VMSDIR/.qemu-uids now (vm-user.ts).
 * At start each old entry is linked into the new folder under its uid, then
 * removed, so at no moment is a uid free in both folders: a QEMU adopted after
 * the restart keeps running with its old uid and keeps it. An entry whose VM
 * directory is gone is dropped. When the uid is taken in the new folder by
 * another VM (another member sharing the vmsDir gave it out: the two VMs
 * already share a uid, the defect this closes) that is logged as a warning;
 * this VM gets a uid of its own at its next start. The old folder goes when
 * empty.
 */
import { readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../shared/index.js';
import { readOwnerFile, type UidAllocDir } from './uid-alloc-dir.js';

export interface UidUpgradeResult {
  moved: number;
  dropped: number;
  conflicts: number;
}

export async function moveOldUidAllocations(oldDir: string, to: UidAllocDir, log: Pick<Logger, 'warn' | 'info'>): Promise<UidUpgradeResult> {
  const out: UidUpgradeResult = { moved: 0, dropped: 0, conflicts: 0 };
  const names = await readdir(oldDir).catch(() => undefined);
  if (names === undefined) return out;
  await to.ensure();
  for (const n of names.filter((x) => /^\d+$/.test(x))) {
    const uid = Number(n);
    const file = path.join(oldDir, n);
    const owner = await readOwnerFile(file);
    if (!owner || (await to.dirGone(owner))) out.dropped++;
    else if (await linkOwn(to, file, uid, owner.id)) out.moved++;
    else {
      out.conflicts++;
      log.warn({ uid, vm: owner.id, other: (await to.read(uid))?.id ?? null, allocDir: to.dir },
        'a VM of this daemon and a VM of another member sharing the vmsDir were given the same QEMU uid (before uids were allocated in the shared vmsDir); this VM gets a uid of its own at its next start');
    }
    await rm(file, { force: true });
  }
  await rmdir(oldDir).catch(() => undefined); // left when something else is in it
  if (out.moved + out.dropped + out.conflicts > 0) log.info({ from: oldDir, to: to.dir, ...out }, 'moved the QEMU uid allocations into the vmsDir');
  return out;
}

/**
 * Links the entry in as `uid`: true when the uid is this VM's there now (linked, or already its own: a start that
 * died before removing the old file), also after taking back an entry there whose VM is gone.
 */
async function linkOwn(to: UidAllocDir, file: string, uid: number, vm: string): Promise<boolean> {
  if (await to.linkIn(file, uid)) return true;
  if ((await to.read(uid))?.id === vm) return true;
  return (await to.takeBack(uid, to.dirGone)) && (await to.linkIn(file, uid));
}
