/**
 * Snapshots with a real guest (TCG): the guest writes random data to its
 * qcow2 disk and records md5sums; snapshots with RAM and disk-only, more
 * writes, reverts (live with RAM, live disk-only with a restart, stopped),
 * delete of a middle node keeps the others revertable, raw disks refused,
 * the depth limit, and the CLI tree.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotClient } from '../src/client/index.js';
import { isPolyvisorError } from '../src/shared/index.js';
import { ROOT, killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { collectEvents } from './helpers/events.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit } from './helpers/limits.js';
import { guestShell } from './helpers/shell.js';
import { READY, guestSpec, waitForLine, waitForState } from './helpers/vm.js';

let d: TestDaemon;
let s: SnapshotClient;
const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (isPolyvisorError(e) ? e.code : e));

beforeAll(async () => {
  d = await startDaemon();
  s = new SnapshotClient({ endpoint: { socketPath: d.socket } });
});
// every test makes its own VMs; none outlives it
afterEach(() => removeAllVms(d));
afterAll(async () => {
  await d?.stop();
  killQemusUnder(d.stateDir);
});

/** md5sum of the whole data disk as the guest reads it from the device (page cache dropped). */
async function diskSum(vm: string): Promise<string> {
  const out = await guestShell(d.client, vm, 'sync; echo 3 > /proc/sys/vm/drop_caches; md5sum /dev/vda', limit('shell', 2));
  const m = /^([0-9a-f]{32})\s/m.exec(out);
  if (!m) throw new Error(`no md5sum in ${JSON.stringify(out)}`);
  return m[1]!;
}

/** Overwrites 2 MiB at `offsetMiB` with random data and syncs; returns the new disk sum. */
async function scribble(vm: string, offsetMiB: number): Promise<string> {
  await guestShell(d.client, vm, `dd if=/dev/urandom of=/dev/vda bs=1M count=2 seek=${offsetMiB} conv=fsync 2>/dev/null; sync`, limit('shell', 2));
  return diskSum(vm);
}

describe('snapshot tree of a running guest', () => {
  it('reverts to exactly the data of each node; deleting a middle node keeps the others', async () => {
    const vm = 'snapper';
    // Every change to the tree is announced on the event stream (a UI re-reads on it).
    const events = await collectEvents(d.socket, vm, (e) => (e.type === 'vm.snapshots' ? `${e.action} ${e.name}` : undefined));
    await d.client.createVm(guestSpec(vm, { disks: [{ name: 'data', size: '16Mi' }] }));
    await d.client.action(vm, 'start');
    await waitForLine(d.client, vm, READY);
    const sumA = await scribble(vm, 0);
    const a = await s.create(vm, { name: 'a', description: 'first pattern' });
    expect(a).toMatchObject({ kind: 'ram', consistency: 'full-state', parent: null, depth: 1, current: true });
    expect(a.vmStateBytes).toBeGreaterThan(0);

    const sumB = await scribble(vm, 4);
    expect(sumB).not.toBe(sumA);
    const b = await s.create(vm, { name: 'b', ram: false });
    expect(b).toMatchObject({ kind: 'disk', parent: 'a', depth: 2 });
    // The busybox guest runs from an initramfs: its agent answers but freezes no filesystem, so this is crash-consistent.
    expect(b).toMatchObject({ consistency: 'crash-consistent', frozenFilesystems: 0 });
    expect(b.freezeNote).toMatch(/froze no filesystem/);

    const sumC = await scribble(vm, 8);
    await s.create(vm, { name: 'c' });
    const sumAfter = await scribble(vm, 12);
    expect(new Set([sumA, sumB, sumC, sumAfter]).size).toBe(4);

    // live revert with RAM: the guest sees exactly the first pattern
    const r = await s.revert(vm, 'a');
    expect(r).toMatchObject({ ram: true, restarted: false, state: 'running', bitmapsReset: [] });
    expect(await diskSum(vm)).toBe(sumA);

    // delete the middle node b: c now hangs from a, and both stay revertable
    await s.remove(vm, 'b');
    const l = await s.list(vm);
    expect(l.snapshots.map((n) => [n.name, n.parent])).toEqual([['a', null], ['c', 'a']]);
    await s.revert(vm, 'c');
    expect(await diskSum(vm)).toBe(sumC);
    await s.revert(vm, 'a');
    expect(await diskSum(vm)).toBe(sumA);
    expect(await codeOf(s.revert(vm, 'b'))).toBe('SNAPSHOT_NOT_FOUND');
    expect(await codeOf(s.create(vm, { name: 'c' }))).toBe('SNAPSHOT_EXISTS');

    // a disk-only snapshot of a running VM reverts with a restart; branch off a
    const sumD = await scribble(vm, 2);
    const dd = await s.create(vm, { name: 'd', ram: false });
    expect(dd.parent).toBe('a');
    await scribble(vm, 6);
    const rd = await s.revert(vm, 'd');
    expect(rd).toMatchObject({ ram: false, restarted: true, state: 'running' });
    await waitForLine(d.client, vm, READY);
    expect(await diskSum(vm)).toBe(sumD);

    // stopped: revert offline to c, snapshot offline, start and check
    await d.client.action(vm, 'kill');
    await waitForState(d.client, vm, 'stopped');
    const rc = await s.revert(vm, 'c');
    expect(rc).toMatchObject({ ram: false, restarted: false, state: 'stopped' });
    const e = await s.create(vm, { name: 'e', description: 'offline' });
    expect(e).toMatchObject({ kind: 'disk', consistency: 'offline', parent: 'c', depth: 3 });
    expect(await codeOf(s.create(vm, { name: 'f', ram: true }))).toBe('SNAPSHOT_UNSUPPORTED');
    await d.client.action(vm, 'start');
    await waitForLine(d.client, vm, READY);
    expect(await diskSum(vm)).toBe(sumC);

    const cli = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), '--socket', d.socket, 'snapshot', 'list', vm], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^└─ a {2}\[ram, full-state/m);
    expect(cli.stdout).toMatch(/^ {3}├─ c {2}\[ram/m);
    expect(cli.stdout).toMatch(/^ {3}│ {2}└─ e \* {2}\[disk, offline/m);
    await d.client.action(vm, 'kill');
    events.stop();
    expect(events.seen).toEqual(['created a', 'created b', 'created c', 'reverted a', 'deleted b', 'reverted c', 'reverted a', 'created d', 'reverted d', 'reverted c', 'created e']);
  });
});

describe('refusals and limits', () => {
  it('refuses raw disks and VMs without disks', async () => {
    await d.client.createVm(guestSpec('rawvm', { disks: [{ name: 'r', size: '8Mi', format: 'raw' }] }));
    const err = await s.create('rawvm', { name: 'x' }).catch((e: unknown) => e);
    expect(isPolyvisorError(err) && err.code).toBe('SNAPSHOT_UNSUPPORTED');
    expect((err as Error).message).toContain('r (raw)');
    await d.client.createVm(guestSpec('nodisk'));
    expect(await codeOf(s.create('nodisk', { name: 'x' }))).toBe('SNAPSHOT_UNSUPPORTED');
    expect(await codeOf(s.create('nodisk', { name: '../x' }))).toBe('INVALID_NAME');
    expect(await codeOf(s.list('nope'))).toBe('VM_NOT_FOUND');
  });

  it('stops a branch at 32 snapshots with a clear error', async () => {
    const vm = 'deep';
    await d.client.createVm(guestSpec(vm, { disks: [{ name: 'data', size: '8Mi' }] }));
    for (let i = 1; i <= 32; i++) await s.create(vm, { name: `s${i}` });
    const err = await s.create(vm, { name: 's33' }).catch((e: unknown) => e);
    expect(isPolyvisorError(err) && err.code).toBe('SNAPSHOT_DEPTH_EXCEEDED');
    expect((err as Error).message).toContain('33 deep under s32; the limit is 32');
    // a sibling branch from a shallower node is fine
    await s.revert(vm, 's10');
    expect(await s.create(vm, { name: 'branch' })).toMatchObject({ parent: 's10', depth: 11 });
  });
});
