import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { VmUsers } from '../drivers/qemu/index.js';
import { claimQemuUidRange, closedFolderAbove, forgetVmUsersOnRemove, openTunForVmUsers, qemuUserView, warnClosedFolders } from './qemu-user-wiring.js';

const logs: Array<[string, unknown]> = [];
const logger = { info: (o: unknown, m: string) => logs.push([m, o]), warn: (o: unknown, m: string) => logs.push([m, o]) } as never;
let dir = '';
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); logs.length = 0; });

describe('openTunForVmUsers (a stand-in file for /dev/net/tun)', () => {
  it('gives a 0600 node Debian\'s 0666 and says so; leaves a 0666 one and a missing one alone', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pv-tun-'));
    const node = path.join(dir, 'tun');
    writeFileSync(node, '');
    chmodSync(node, 0o600);
    await openTunForVmUsers(logger, node);
    expect(statSync(node).mode & 0o777).toBe(0o666);
    expect(logs.map((l) => l[0])).toEqual([expect.stringContaining('0666')]);
    await openTunForVmUsers(logger, node);
    await openTunForVmUsers(logger, path.join(dir, 'missing'));
    expect(logs).toHaveLength(1);
  });
});

describe('forgetVmUsersOnRemove', () => {
  it('a deleted VM\'s uid allocation goes back to the range and its AppArmor profile is unloaded; another VM keeps its own', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pv-uids-'));
    const unloaded: string[] = [];
    const appArmor = { unload: (id: string) => { unloaded.push(id); return Promise.resolve(); } };
    const users = new VmUsers({ base: 2_000_000_000, count: 16, allocDir: path.join(dir, 'uids'), roots: [dir], appArmor: appArmor as never });
    for (const x of ['a', 'b']) mkdirSync(path.join(dir, x)); // an allocation whose VM directory is gone is taken back
    const a = await users.identity('vm-a', path.join(dir, 'a'));
    const b = await users.identity('vm-b', path.join(dir, 'b'));
    const states = new EventEmitter<{ removed: [{ vm: string; id: string }] }>();
    const off = forgetVmUsersOnRemove(states as never, users, logger);
    rmSync(path.join(dir, 'a'), { recursive: true }); // VmService.remove deletes the directory before 'removed'
    states.emit('removed', { vm: 'a', id: 'vm-a' });
    for (let i = 0; i < 50 && unloaded.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(unloaded).toEqual(['vm-a']);
    expect(a.uid).not.toBe(b.uid);
    expect(readdirSync(path.join(dir, 'uids'))).toEqual([String(b.uid)]);
    expect(existsSync(path.join(dir, 'uids', String(a.uid)))).toBe(false);
    off();
    states.emit('removed', { vm: 'b', id: 'vm-b' });
    await new Promise((r) => setTimeout(r, 50));
    expect(unloaded).toEqual(['vm-a']);
  });

  it('a VM that moved to a member sharing the vmsDir (its directory stays): its profile here is unloaded, its uid entry stays for the member that runs it', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pv-uids-'));
    const unloaded: string[] = [];
    const appArmor = { unload: (id: string) => { unloaded.push(id); return Promise.resolve(); } };
    const users = new VmUsers({ base: 2_000_000_000, count: 16, allocDir: path.join(dir, '.qemu-uids'), roots: [dir], appArmor: appArmor as never });
    mkdirSync(path.join(dir, 'm'));
    const m = await users.identity('vm-m', path.join(dir, 'm'));
    const states = new EventEmitter<{ removed: [{ vm: string; id: string }] }>();
    const off = forgetVmUsersOnRemove(states as never, users, logger);
    states.emit('removed', { vm: 'm', id: 'vm-m' });
    for (let i = 0; i < 50 && unloaded.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await users.release('nothing'); // queued behind the handler's release: it has run
    expect(unloaded).toEqual(['vm-m']);
    expect(readdirSync(path.join(dir, '.qemu-uids'))).toEqual([String(m.uid)]);
    off();
  });
});

describe('claimQemuUidRange and qemuUserView (a stand-in claims folder; the other daemon is a sleep named polyvisord)', () => {
  it('a second daemon with an overlapping range is warned at start and named by doctor\'s view; root mode has no range', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pv-uidclaim-'));
    const { spawn } = await import('node:child_process');
    const other = spawn('bash', ['-c', 'exec -a polyvisord-stand-in sleep 30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100));
      writeFileSync(path.join(dir, 'x.json'), JSON.stringify({ pid: other.pid, stateDir: '/var/lib/other', base: 2_000_000_000, count: 65_536 }));
      writeFileSync(path.join(dir, 'y.json'), JSON.stringify({ pid: other.pid, stateDir: '/var/lib/member', vmsDir: '/var/lib/me/vms', base: 2_000_000_000, count: 65_536 })); // shares our vmsDir: one allocation folder, no warning
      const cfg = { qemuUser: 'per-vm' as const, qemuUidBase: 2_000_000_000, qemuUidCount: 65_536, stateDir: '/var/lib/me', vmsDir: '/var/lib/me/vms' };
      const release = await claimQemuUidRange(cfg, logger, dir);
      expect(logs.map(([m]) => m)).toEqual([expect.stringContaining('overlapping range')]);
      expect(readdirSync(dir)).toHaveLength(3);
      expect(await qemuUserView(cfg, dir)).toEqual({ mode: 'per-vm', base: 2_000_000_000, count: 65_536, overlaps: [{ pid: other.pid, stateDir: '/var/lib/other', base: 2_000_000_000, count: 65_536 }], closed: null });
      expect(await qemuUserView({ ...cfg, qemuUidBase: 3_000_000_000 }, dir)).toMatchObject({ overlaps: [] });
      expect(await qemuUserView({ ...cfg, qemuUser: 'root' }, dir)).toEqual({ mode: 'root', uid: process.geteuid!() });
      await release();
      expect(readdirSync(dir)).toHaveLength(2);
    } finally {
      other.kill('SIGKILL');
    }
  });
});

describe('closedFolderAbove and warnClosedFolders (real folders in a temporary directory)', () => {
  it('names the first folder above the daemon\'s files the VMs\' users cannot pass; o+x or the range\'s group with g+x lets them; the daemon\'s own folders are not asked', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pv-closed-'));
    chmodSync(dir, 0o755);
    const home = path.join(dir, 'home');
    mkdirSync(path.join(home, 'clone', '.state', 'vms'), { recursive: true });
    chmodSync(home, 0o700);
    const stateDir = path.join(home, 'clone', '.state');
    chmodSync(stateDir, 0o700); // the daemon's own: it opens it to the shared group itself
    const cfg = { qemuUidBase: 2_000_000_000, stateDir, vmsDir: path.join(stateDir, 'vms') };
    expect(await closedFolderAbove(cfg)).toEqual({ folder: home, mode: 0o700, owner: `${process.geteuid!()}:${process.getegid!()}`, on: stateDir });
    await warnClosedFolders(cfg, logger);
    expect(logs).toEqual([[expect.stringContaining('VMs cannot start'), expect.objectContaining({ folder: home, mode: '700' })]]);
    chmodSync(home, 0o711);
    expect(await closedFolderAbove(cfg)).toBeNull();
    if (process.geteuid?.() === 0) {
      const { chownSync } = await import('node:fs');
      chmodSync(home, 0o710);
      chownSync(home, 0, 2_000_000_000);
      expect(await closedFolderAbove(cfg)).toBeNull();
      chownSync(home, 0, 0);
      expect(await closedFolderAbove(cfg)).toMatchObject({ folder: home, mode: 0o710 });
    }
    // a vmsDir elsewhere is walked too
    const other = path.join(dir, 'closed', 'vms');
    mkdirSync(other, { recursive: true });
    chmodSync(home, 0o755);
    chmodSync(path.join(dir, 'closed'), 0o750);
    expect(await closedFolderAbove({ ...cfg, vmsDir: other })).toMatchObject({ folder: path.join(dir, 'closed'), on: other });
  });
});
