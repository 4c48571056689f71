import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { asVmUser, VmUsers } from './vm-user.js';
import { permits } from './vm-files-grant.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'pv-uid-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('VmUsers', () => {
  it('gives each VM its own uid from the range, the same one again, and never one twice', async () => {
    const root = tmp();
    const users = new VmUsers({ base: 5_000_000, count: 3, allocDir: path.join(root, 'alloc'), roots: [root] });
    const vmDir = (n: string) => {
      const d = path.join(root, n);
      mkdirSync(d, { recursive: true });
      return d;
    };
    const [a, b] = await Promise.all([users.identity('vm-a', vmDir('a')), users.identity('vm-b', vmDir('b'))]);
    expect(a.uid).not.toBe(b.uid);
    expect([a.uid, b.uid].sort()).toEqual([5_000_001, 5_000_002]);
    expect(a).toMatchObject({ gid: a.uid, groups: [5_000_000] });
    expect((await users.identity('vm-a', vmDir('a'))).uid).toBe(a.uid);
    // A second allocator on the same folder (a restarted daemon) sees the same allocations.
    const again = new VmUsers({ base: 5_000_000, count: 3, allocDir: path.join(root, 'alloc'), roots: [root] });
    expect((await again.identity('vm-b', vmDir('b'))).uid).toBe(b.uid);
    expect(readFileSync(path.join(root, 'alloc', String(a.uid)), 'utf8')).toBe(`vm-a\n${path.join(root, 'a')}\n`);
    expect(statSync(path.join(root, 'alloc')).mode & 0o777).toBe(0o700);
  });

  it('takes back the uid of a VM whose directory is gone, and says when the range is full', async () => {
    const root = tmp();
    const users = new VmUsers({ base: 5_000_000, count: 1, allocDir: path.join(root, 'alloc'), roots: [root] });
    mkdirSync(path.join(root, 'a'));
    await users.identity('vm-a', path.join(root, 'a'));
    mkdirSync(path.join(root, 'b'));
    await expect(users.identity('vm-b', path.join(root, 'b'))).rejects.toMatchObject({ code: 'QEMU_START_FAILED', message: expect.stringMatching(/every uid/) });
    rmSync(path.join(root, 'a'), { recursive: true });
    expect((await users.identity('vm-b', path.join(root, 'b'))).uid).toBe(5_000_001);
    rmSync(path.join(root, 'b'), { recursive: true }); // deleted: VmService.remove removes the directory before 'removed'
    await users.release('vm-b');
    expect(readdirSync(path.join(root, 'alloc'))).toEqual([]);
    mkdirSync(path.join(root, 'c'));
    expect((await users.identity('vm-c', path.join(root, 'c'))).uid).toBe(5_000_001);
  });

  it('two members on one allocation folder (a shared vmsDir): allocations at once, over stale entries, never give two VMs one uid', async () => {
    // Each round: 12 entries whose VMs are gone (to be taken back), then three members start four VMs each at once.
    for (let round = 0; round < 8; round++) {
      const root = tmp();
      const alloc = path.join(root, '.qemu-uids');
      mkdirSync(alloc);
      for (let i = 1; i <= 12; i++) writeFileSync(path.join(alloc, String(5_000_000 + i)), `gone-${i}\n${path.join(root, `gone-${i}`)}\n`);
      const members = [0, 1, 2].map(() => new VmUsers({ base: 5_000_000, count: 12, allocDir: alloc, roots: [root] }));
      const starts = members.flatMap((m, mi) => [0, 1, 2, 3].map((k) => {
        const id = `vm-${mi}-${k}`;
        mkdirSync(path.join(root, id));
        return m.identity(id, path.join(root, id)).then((x) => x.uid);
      }));
      const uids = await Promise.all(starts);
      expect(new Set(uids).size, `round ${round}: ${uids.join(' ')}`).toBe(12);
      // The folder agrees: each uid's file names the VM that got it.
      const owners = uids.map((u) => readFileSync(path.join(alloc, String(u)), 'utf8').split('\n')[0]);
      expect(owners.sort()).toEqual(members.flatMap((_, mi) => [0, 1, 2, 3].map((k) => `vm-${mi}-${k}`)).sort());
      expect(readdirSync(alloc).filter((n) => !/^\d+$/.test(n))).toEqual([]); // no temporary file or reclaim lock left
    }
  });

  it('a VM that moved in place to another member keeps its uid there: a release by the member it left keeps the entry while its directory exists', async () => {
    const root = tmp();
    const alloc = path.join(root, '.qemu-uids');
    const a = new VmUsers({ base: 5_000_000, count: 4, allocDir: alloc, roots: [root] });
    const b = new VmUsers({ base: 5_000_000, count: 4, allocDir: alloc, roots: [root] });
    mkdirSync(path.join(root, 'x'));
    const before = await a.identity('vm-x', path.join(root, 'x'));
    await a.release('vm-x'); // 'removed' on the member it left
    expect(readdirSync(alloc)).toEqual([String(before.uid)]);
    mkdirSync(path.join(root, 'y'));
    expect((await a.identity('vm-y', path.join(root, 'y'))).uid).not.toBe(before.uid);
    expect((await b.identity('vm-x', path.join(root, 'x'))).uid).toBe(before.uid);
    // Deleted (its directory removed first, as VmService.remove does): the uid goes back at once.
    rmSync(path.join(root, 'x'), { recursive: true });
    await b.release('vm-x');
    expect(readdirSync(alloc)).not.toContain(String(before.uid));
  });

  it('an entry is stale only if its directory is gone beside the folder (a member mounting the shared vmsDir elsewhere sees it live); a dead reclaim lock is taken back', async () => {
    const root = tmp();
    const alloc = path.join(root, '.qemu-uids');
    mkdirSync(alloc);
    mkdirSync(path.join(root, 'vm-far'));
    writeFileSync(path.join(alloc, '5000001'), 'vm-far\n/mnt/other-mount/vm-far\n');
    writeFileSync(path.join(alloc, '5000002'), 'vm-gone\n/mnt/other-mount/vm-gone\n');
    writeFileSync(path.join(alloc, '5000002.reclaim'), '');
    const old = new Date(Date.now() - 120_000);
    utimesSync(path.join(alloc, '5000002.reclaim'), old, old);
    const users = new VmUsers({ base: 5_000_000, count: 3, allocDir: alloc, roots: [root] });
    mkdirSync(path.join(root, 'n'));
    expect((await users.identity('vm-n', path.join(root, 'n'))).uid).toBe(5_000_003); // 1 is live, 2 is behind a lock (removed now: over a minute old)
    mkdirSync(path.join(root, 'm'));
    expect((await users.identity('vm-m', path.join(root, 'm'))).uid).toBe(5_000_002);
  });

  it('refuses a range that is not one of ids', () => {
    expect(() => new VmUsers({ base: 10, count: 5, allocDir: '/x', roots: [] })).toThrow(/not a valid range/);
    expect(() => new VmUsers({ base: 4_294_967_000, count: 5_000, allocDir: '/x', roots: [] })).toThrow(/not a valid range/);
  });
});

describe('asVmUser', () => {
  it('execs QEMU through setpriv with the uid, gid, groups and no capabilities, argv kept whole', () => {
    expect(asVmUser({ uid: 7, gid: 7, groups: [5, 108] }, 'qemu-system-x86_64', ['-name', 'a b,c'])).toEqual({
      binary: 'setpriv',
      argv: ['--reuid=7', '--regid=7', '--groups=5,108', '--inh-caps=-all', '--bounding-set=-all', '--', 'qemu-system-x86_64', '-name', 'a b,c'],
    });
  });


  it('adds the VM\'s AppArmor profile where one was loaded', () => {
    expect(asVmUser({ uid: 7, gid: 7, groups: [5], appArmorProfile: 'polyvisor-x' }, 'qemu', []).argv).toEqual(
      ['--reuid=7', '--regid=7', '--groups=5', '--inh-caps=-all', '--bounding-set=-all', '--apparmor-profile=polyvisor-x', '--', 'qemu']);
  });
});

describe('permits', () => {
  const id = { uid: 100, gid: 100, groups: [50] };
  it('checks owner bits for the owner, group bits for a member, other bits for the rest (as the kernel does)', () => {
    expect(permits({ uid: 100, gid: 0, mode: 0o600 }, id, 4)).toBe(true);
    expect(permits({ uid: 100, gid: 0, mode: 0o077 }, id, 4)).toBe(false); // owner bits alone count for the owner
    expect(permits({ uid: 0, gid: 50, mode: 0o710 }, id, 1)).toBe(true);
    expect(permits({ uid: 0, gid: 50, mode: 0o710 }, id, 4)).toBe(false);
    expect(permits({ uid: 0, gid: 0, mode: 0o700 }, id, 1)).toBe(false);
    expect(permits({ uid: 0, gid: 0, mode: 0o755 }, id, 5)).toBe(true);
  });
});
