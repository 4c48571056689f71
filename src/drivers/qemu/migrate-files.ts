/**
 * Runtime files of the two QEMU processes of one VM during a same-host live
 * migration. The target runs with its sockets and pidfile in a fresh
 * `<dir>/incoming-<tag>/` and shares the serial log (append mode: only one of
 * the two guests runs at a time) and the NVRAM with the source. After the
 * switch-over, once the source process is gone, commitIncomingFiles() renames
 * the target's sockets into `<dir>/`, its pidfile last, and removes the
 * incoming dir: from then on `<dir>/qemu.pid` names the target and every path
 * is the VM's usual one.
 *
 * Why the order and the fresh tag: QEMU unlinks, when it exits, the paths it
 * bound its sockets to and its pidfile path, by name. The source must be gone
 * before the target's files take over `<dir>/…`, and a process that itself
 * arrived by migration (bound in an older incoming dir) must never share that
 * dir name with the next target.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { RuntimeFiles } from '../driver.js';
import { runtimeFiles } from './files.js';

export const INCOMING_PREFIX = 'incoming-';
const MIGRATION_SOCKET = 'mig.sock';

/** Moved from the incoming dir to the VM dir on commit, in this order (pidfile last). */
const MOVED = ['qmpSocket', 'agentSocket', 'serialSocket', 'vncSocket', 'pidFile'] as const satisfies ReadonlyArray<keyof RuntimeFiles>;

/** A new, empty incoming dir under `vmDir`; leftovers of earlier migrations are removed first. */
export async function makeIncomingDir(vmDir: string): Promise<string> {
  const abs = path.resolve(vmDir);
  for (const name of await readdir(abs).catch(() => [] as string[])) {
    if (name.startsWith(INCOMING_PREFIX)) await rm(path.join(abs, name), { recursive: true, force: true });
  }
  const dir = path.join(abs, `${INCOMING_PREFIX}${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { mode: 0o750 });
  return dir;
}

/** The files the target QEMU of `vmDir` is started with. */
export function incomingFiles(vmDir: string, incomingDir: string): RuntimeFiles {
  const main = runtimeFiles(vmDir);
  const own = runtimeFiles(incomingDir);
  return { ...own, serialLog: main.serialLog, nvram: main.nvram, saveFile: main.saveFile };
}

export function incomingSocket(incomingDir: string): string {
  return path.join(incomingDir, MIGRATION_SOCKET);
}

/**
 * Call only when the source process is gone. Files a VM does not use (no
 * VNC…) are skipped; with `resume` (recovery after a crash halfway through a
 * commit) so is anything already moved.
 */
export async function commitIncomingFiles(vmDir: string, incomingDir: string, o: { resume?: boolean } = {}): Promise<RuntimeFiles> {
  const from = incomingFiles(vmDir, incomingDir);
  const to = runtimeFiles(vmDir);
  for (const key of MOVED) {
    await rename(from[key], to[key]).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT' || (!o.resume && (key === 'qmpSocket' || key === 'pidFile'))) throw err;
    });
  }
  // No fsync: these are a live process's sockets and pid file, which a host crash (the only thing that
  // would lose the renames) ends anyway; the guest waits paused for this step, so it stays short.
  await rm(incomingDir, { recursive: true, force: true });
  return to;
}
