import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimUidRange, overlappingClaims, rangesOverlap } from './uid-ranges.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.pid && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const tmp = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'pv-uidr-'));
  dirs.push(d);
  return d;
};
/** A live process whose argv names polyvisord, standing in for another daemon of the host (sleep, not a real daemon). */
const fakeDaemon = (): number => {
  const c = spawn('bash', ['-c', 'exec -a polyvisord-stand-in sleep 60'], { stdio: 'ignore' });
  children.push(c);
  return c.pid!;
};

describe('QEMU uid ranges of the daemons of a host', () => {
  it('ranges overlap when their uids or shared gids meet', () => {
    expect(rangesOverlap({ base: 1000, count: 10 }, { base: 1010, count: 10 })).toBe(true); // 1010 is a uid of the first and the second's group
    expect(rangesOverlap({ base: 1000, count: 10 }, { base: 1011, count: 10 })).toBe(false);
    expect(rangesOverlap({ base: 2_000_000_000, count: 65_536 }, { base: 2_000_000_000, count: 65_536 })).toBe(true);
  });

  it('a claim is seen by a daemon with an overlapping range while its daemon lives; not its own, not a disjoint one, not a dead one (removed)', async () => {
    const dir = await tmp();
    const other = fakeDaemon();
    await new Promise((r) => setTimeout(r, 100)); // let exec -a take effect
    await writeFile(path.join(dir, 'a.json'), JSON.stringify({ pid: other, stateDir: '/var/lib/a', base: 2_000_000_000, count: 65_536 }));
    await writeFile(path.join(dir, 'b.json'), JSON.stringify({ pid: other, stateDir: '/var/lib/b', base: 3_000_000_000, count: 100 }));
    await writeFile(path.join(dir, 'c.json'), JSON.stringify({ pid: 2 ** 22 + 7, stateDir: '/var/lib/c', base: 2_000_000_000, count: 10 })); // no such pid
    await writeFile(path.join(dir, 'd.json'), JSON.stringify({ pid: process.ppid, stateDir: '/var/lib/d', base: 2_000_000_000, count: 10 })); // a live pid that is not a polyvisord
    await writeFile(path.join(dir, 'e.json'), '{"pid": ');
    const self = { stateDir: '/var/lib/self', base: 2_000_000_000, count: 65_536 };
    const { overlaps, release } = await claimUidRange(self, dir);
    expect(overlaps).toEqual([{ pid: other, stateDir: '/var/lib/a', base: 2_000_000_000, count: 65_536 }]);
    expect(await overlappingClaims({ ...self, stateDir: '/var/lib/a' }, dir)).toEqual([]); // the same state directory is the same daemon
    // the claims of the gone daemons (c: no such pid, d: not a polyvisord) were removed; the unreadable one is left
    expect((await readdir(dir)).sort()).toEqual(['a.json', 'b.json', 'e.json', expect.stringMatching(/^[0-9a-f]{16}\.json$/)].sort());
    await release();
    expect((await readdir(dir)).sort()).toEqual(['a.json', 'b.json', 'e.json']);
  });

  it('a daemon restarted on the same state directory replaces its claim; an unwritable folder yields no claim and no error', async () => {
    const dir = await tmp();
    const a = await claimUidRange({ stateDir: '/s', base: 5000, count: 10 }, dir);
    await claimUidRange({ stateDir: '/s/', base: 6000, count: 10 }, dir);
    expect(await readdir(dir)).toHaveLength(1);
    await a.release();
    const file = path.join(await tmp(), 'f');
    await writeFile(file, 'x');
    const none = await claimUidRange({ stateDir: '/s', base: 5000, count: 10 }, path.join(file, 'sub'));
    expect(none.overlaps).toEqual([]);
    await none.release();
  });

  it('daemons that name one vmsDir allocate in one folder: their overlap is no warning; another vmsDir, or a claim naming none, still is', async () => {
    const dir = await tmp();
    const other = fakeDaemon();
    await new Promise((r) => setTimeout(r, 100));
    const range = { base: 2_000_000_000, count: 65_536 };
    await writeFile(path.join(dir, 'm.json'), JSON.stringify({ pid: other, stateDir: '/var/lib/m2', vmsDir: '/shared/vms', ...range }));
    await writeFile(path.join(dir, 'o.json'), JSON.stringify({ pid: other, stateDir: '/var/lib/o', vmsDir: '/var/lib/o/vms', ...range }));
    await writeFile(path.join(dir, 'x.json'), JSON.stringify({ pid: other, stateDir: '/var/lib/x', ...range })); // an older daemon's claim
    const { overlaps, release } = await claimUidRange({ stateDir: '/var/lib/m1', vmsDir: '/shared/vms/', ...range }, dir);
    expect(overlaps.map((o) => o.stateDir).sort()).toEqual(['/var/lib/o', '/var/lib/x']);
    // The claim written names the vmsDir, so the other member sees this one the same way.
    expect(await overlappingClaims({ stateDir: '/var/lib/m2', vmsDir: '/shared/vms', ...range }, dir).then((x) => x.map((o) => o.stateDir).sort()))
      .toEqual(['/var/lib/o', '/var/lib/x']);
    expect(await overlappingClaims({ stateDir: '/var/lib/m3', vmsDir: '/elsewhere', ...range }, dir).then((x) => x.map((o) => o.stateDir).sort()))
      .toEqual(['/var/lib/m2', '/var/lib/o', '/var/lib/x']);
    await release();
  });
});
