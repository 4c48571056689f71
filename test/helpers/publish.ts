/**
 * Cached test guests (kernels, initrds, disk images) where a QEMU running as
 * its VM's own user (qemuUser: per-vm) can read them. The caches live under
 * root's home (0700): the daemon rightly refuses files behind such a folder
 * (VM_FILE_UNREACHABLE), so the tests hand their daemons a copy under a
 * root-owned 0755 folder instead, keyed like the cache (by the build's
 * inputs), made once per key. Override the folder with POLYVISOR_GUEST_PUBLISHED.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

export function publishedRoot(): string {
  return process.env['POLYVISOR_GUEST_PUBLISHED'] ?? '/var/cache/polyvisor-test';
}

/** Whether every folder from / down to `dir` lets any user pass (o+x). */
export function passableByAll(dir: string): boolean {
  let cur = path.resolve(dir);
  for (;;) {
    if ((statSync(cur).mode & 0o001) === 0) return false;
    const up = path.dirname(cur);
    if (up === cur) return true;
    cur = up;
  }
}

/** Refuses a folder another user could have written into: each folder from / down must be root's and writable by root only. */
export function assertRootOnly(dir: string): void {
  let cur = path.resolve(dir);
  for (;;) {
    const st = statSync(cur);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
      throw new Error(`${cur} (owner ${st.uid}, mode ${(st.mode & 0o777).toString(8)}) must be root's and writable by root only to hold the published test guests; fix it or set POLYVISOR_GUEST_PUBLISHED`);
    }
    const up = path.dirname(cur);
    if (up === cur) return;
    cur = up;
  }
}

/**
 * `src` itself when every user can already pass to it (or when not root: only
 * root runs per-vm QEMUs), else the folder `ROOT/kind/key` holding a copy of
 * `files` (0644; written to a temporary folder, then renamed, so a concurrent
 * run never sees half a copy).
 */
export function publishedCopy(kind: string, src: string, key: string, files: readonly string[]): string {
  if (process.geteuid?.() !== 0 || passableByAll(src)) return src;
  if (!/^[A-Za-z0-9][A-Za-z0-9.+_-]{0,127}$/.test(key)) throw new Error(`unexpected cache key ${key}`);
  const root = path.join(publishedRoot(), kind);
  const dest = path.join(root, key);
  if (!existsSync(path.join(dest, files[files.length - 1]!))) {
    let have = root;
    while (!existsSync(have)) have = path.dirname(have);
    assertRootOnly(have); // before making anything below it
    mkdirSync(root, { recursive: true, mode: 0o755 });
    assertRootOnly(root);
    const tmp = mkdtempSync(path.join(root, `.${key}-`));
    for (const f of files) {
      copyFileSync(path.join(src, f), path.join(tmp, f));
      chmodSync(path.join(tmp, f), 0o644);
    }
    chmodSync(tmp, 0o755);
    try {
      renameSync(tmp, dest);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(dest)) throw e; // else a concurrent run published it first
    }
  }
  assertRootOnly(dest);
  if (!passableByAll(dest)) throw new Error(`${dest} is not passable by every user: a confined QEMU could not read the test guest`);
  return dest;
}
