import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
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
    await users.release('vm-b');
    mkdirSync(path.join(root, 'c'));
    expect((await users.identity('vm-c', path.join(root, 'c'))).uid).toBe(5_000_001);
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
