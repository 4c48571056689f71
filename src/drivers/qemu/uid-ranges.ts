/**
 * Which QEMU uid ranges the daemons of this host use (qemuUser: per-vm). Each
 * daemon keeps its uid allocations in its own state directory, so two daemons
 * on one host with overlapping ranges (the default range, twice) give two of
 * their VMs the same uid, and each of those QEMUs could open the other's files.
 * Nothing in one state directory can see the other's allocations; this folder
 * under /run (tmpfs: gone at reboot, as the QEMUs are) can: a file per daemon,
 * named by a hash of its state directory, saying its pid and its range. The
 * daemon writes its own at start and warns of an overlap; doctor reports it.
 * A file whose pid is no longer a polyvisord is ignored (a daemon killed with
 * SIGKILL leaves its file; the next daemon on that state directory rewrites it).
 * Daemons that name one vmsDir (cluster members on shared storage, or two on
 * one host in the tests) allocate in one folder, VMSDIR/.qemu-uids, so no two
 * of their VMs get one uid: their overlap is no overlap here.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pidAlive, pidArgv } from '../../shared/index.js';

export const UID_RANGES_DIR = '/run/polyvisor/qemu-uid-ranges';

export interface UidRangeClaim {
  pid: number;
  stateDir: string;
  /** The daemon's vmsDir (claims written before 2026-12-06 have none). */
  vmsDir?: string;
  base: number;
  count: number;
}

const fileOf = (dir: string, stateDir: string): string =>
  path.join(dir, `${createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 16)}.json`);

/** Whether the VM uids (and the shared gid) of two ranges meet: base … base+count. */
export function rangesOverlap(a: Pick<UidRangeClaim, 'base' | 'count'>, b: Pick<UidRangeClaim, 'base' | 'count'>): boolean {
  return a.base <= b.base + b.count && b.base <= a.base + a.count;
}

/**
 * The live daemons' claims in `dir` (other than `self`'s state directory) whose ranges overlap `self`'s. With
 * `prune`, the claims of daemons that are gone are removed (the folder would otherwise grow by one file per
 * state directory a killed daemon leaves).
 */
export async function overlappingClaims(self: Omit<UidRangeClaim, 'pid'>, dir = UID_RANGES_DIR, prune = false): Promise<UidRangeClaim[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: UidRangeClaim[] = [];
  for (const n of names.filter((x) => x.endsWith('.json')).sort()) {
    let c: UidRangeClaim;
    try {
      c = JSON.parse(await readFile(path.join(dir, n), 'utf8')) as UidRangeClaim;
    } catch {
      continue; // half-written or removed meanwhile
    }
    if (!Number.isInteger(c.pid) || !Number.isInteger(c.base) || !Number.isInteger(c.count) || typeof c.stateDir !== 'string') continue;
    if (path.resolve(c.stateDir) === path.resolve(self.stateDir) || c.pid === process.pid) continue;
    const argv = pidAlive(c.pid) ? await pidArgv(c.pid) : undefined;
    if (!argv?.join(' ').includes('polyvisord')) { // its daemon is gone (the pid free, or someone else's)
      if (prune) await unlink(path.join(dir, n)).catch(() => undefined);
      continue;
    }
    if (typeof c.vmsDir === 'string' && self.vmsDir !== undefined && path.resolve(c.vmsDir) === path.resolve(self.vmsDir)) continue; // one allocation folder
    if (rangesOverlap(self, c)) out.push(c);
  }
  return out;
}

/**
 * Writes this daemon's claim (atomically: a temporary file renamed),
 * removes the claims of daemons that are gone, and returns the overlapping
 * claims of other live daemons, and a remover for shutdown. A host where /run cannot be written yields no claim and no overlap.
 */
export async function claimUidRange(self: Omit<UidRangeClaim, 'pid'>, dir = UID_RANGES_DIR): Promise<{ overlaps: UidRangeClaim[]; release: () => Promise<void> }> {
  const file = fileOf(dir, self.stateDir);
  const claim: UidRangeClaim = {
    pid: process.pid, stateDir: path.resolve(self.stateDir), ...(self.vmsDir !== undefined ? { vmsDir: path.resolve(self.vmsDir) } : {}), base: self.base, count: self.count,
  };
  const written = await (async () => {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(claim), { mode: 0o644 });
    await rename(tmp, file);
    return true;
  })().catch(() => false);
  const overlaps = await overlappingClaims(self, dir, true);
  return {
    overlaps,
    release: async () => {
      if (!written) return;
      const now = await readFile(file, 'utf8').then((t) => JSON.parse(t) as UidRangeClaim, () => undefined);
      if (now?.pid === process.pid) await unlink(file).catch(() => undefined);
    },
  };
}
