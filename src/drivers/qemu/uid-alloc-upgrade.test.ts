import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UidAllocDir } from './uid-alloc-dir.js';
import { moveOldUidAllocations } from './uid-alloc-upgrade.js';
import { VmUsers } from './vm-user.js';

let root = '';
afterEach(() => { if (root) rmSync(root, { recursive: true, force: true }); });
const logs: Array<[string, unknown]> = [];
const log = { info: (o: unknown, m: string) => logs.push([m, o]), warn: (o: unknown, m: string) => logs.push([m, o]) } as never;

describe('moveOldUidAllocations (real folders: STATE/qemu-uids of an older daemon into VMSDIR/.qemu-uids)', () => {
  it('keeps each live VM\'s uid, drops the gone ones, takes back a stale entry in the way, warns of a uid another member gave out, removes the old folder', async () => {
    logs.length = 0;
    root = mkdtempSync(path.join(os.tmpdir(), 'pv-uidup-'));
    const state = path.join(root, 'state');
    const vms = path.join(root, 'vms');
    const old = path.join(state, 'qemu-uids');
    mkdirSync(old, { recursive: true });
    for (const v of ['a', 'c', 'd', 'x']) mkdirSync(path.join(vms, v), { recursive: true });
    const entry = (dir: string, uid: number, id: string) => writeFileSync(path.join(dir, String(uid)), `${id}\n${path.join(vms, id)}\n`, { mode: 0o600 });
    entry(old, 7001, 'a'); // live: moves
    entry(old, 7002, 'b'); // its directory is gone: dropped
    entry(old, 7003, 'c'); // the new folder gives 7003 to x, another member's live VM: a conflict
    entry(old, 7004, 'd'); // the new folder's 7004 names a VM that is gone: taken back, d keeps 7004
    const to = new UidAllocDir(path.join(vms, '.qemu-uids'));
    await to.ensure();
    entry(to.dir, 7003, 'x');
    entry(to.dir, 7004, 'gone');
    const r = await moveOldUidAllocations(old, to, log);
    expect(r).toEqual({ moved: 2, dropped: 1, conflicts: 1 });
    expect(existsSync(old)).toBe(false);
    expect(readdirSync(to.dir).sort()).toEqual(['7001', '7003', '7004']);
    expect(readFileSync(path.join(to.dir, '7003'), 'utf8')).toBe(`x\n${path.join(vms, 'x')}\n`);
    expect(logs.filter(([m]) => /same QEMU uid/.test(m)).map(([, o]) => o)).toEqual([expect.objectContaining({ uid: 7003, vm: 'c', other: 'x' })]);
    expect(statSync(to.dir).mode & 0o777).toBe(0o700);
    // The daemon's allocator finds the moved entries: a VM adopted after the restart keeps its uid.
    const users = new VmUsers({ base: 7000, count: 8, allocDir: to.dir, roots: [vms] });
    expect((await users.identity('a', path.join(vms, 'a'))).uid).toBe(7001);
    expect((await users.identity('d', path.join(vms, 'd'))).uid).toBe(7004);
    expect((await users.identity('c', path.join(vms, 'c'))).uid).toBe(7002); // its own uid at its next start
    // Run again (a second start): nothing to do, nothing said.
    logs.length = 0;
    expect(await moveOldUidAllocations(old, to, log)).toEqual({ moved: 0, dropped: 0, conflicts: 0 });
    expect(logs).toEqual([]);
  });

  it('an entry already linked by a start that died before removing the old file counts as moved; a folder with other files is left', async () => {
    logs.length = 0;
    root = mkdtempSync(path.join(os.tmpdir(), 'pv-uidup-'));
    const vms = path.join(root, 'vms');
    const old = path.join(root, 'state', 'qemu-uids');
    mkdirSync(old, { recursive: true });
    mkdirSync(path.join(vms, 'a'), { recursive: true });
    writeFileSync(path.join(old, '7001'), `a\n${path.join(vms, 'a')}\n`);
    writeFileSync(path.join(old, 'notes'), 'not an entry');
    const to = new UidAllocDir(path.join(vms, '.qemu-uids'));
    await to.ensure();
    await to.linkIn(path.join(old, '7001'), 7001);
    expect(await moveOldUidAllocations(old, to, log)).toEqual({ moved: 1, dropped: 0, conflicts: 0 });
    expect(readdirSync(old)).toEqual(['notes']);
    expect(readdirSync(to.dir)).toEqual(['7001']);
  });
});
