/**
 * External (overlay) snapshots with a real guest (TCG): nodes a → b → c
 * taken while the guest runs and writes; a backup chain keeps working across
 * them (the bitmap moves to the new overlay); delete of the middle node (live
 * block-stream into an intermediate image), revert with a restart, delete of
 * a node with two dependents while running (stream into the active image +
 * rebase of the other), then offline: create, delete with one dependent
 * (qemu-img commit) and with two (qemu-img rebase); then an internal RAM
 * snapshot on the overlay QEMU runs on. Every other node stays revertable
 * with exactly its data; the chain checks clean; no stray files.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BackupClient, SnapshotClient } from '../src/client/index.js';
import { isPolyvisorError } from '../src/shared/index.js';
import { ROOT, killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit } from './helpers/limits.js';
import { guestShell } from './helpers/shell.js';
import { READY, guestSpec, waitForLine, waitForState } from './helpers/vm.js';

let d: TestDaemon;
let s: SnapshotClient;
let b: BackupClient;
/** The VM of the running test (each test makes its own) and its disk directory. */
let VM = '';
let dir = '';
/** The VM's active image of `disk` (the spec moves to a new overlay with every external snapshot). */
async function active(disk = 'data'): Promise<string> {
  const v = await d.client.getVm(VM);
  const spec = v.spec.disks.find((x) => x.name === disk)!;
  return spec.path ?? path.join(dir, `${disk}.qcow2`);
}
/** A node's file for `disk`. */
async function nodeFile(name: string, disk = 'data'): Promise<string> {
  const n = (await s.list(VM)).snapshots.find((x) => x.name === name)!;
  return path.join(dir, n.files![disk]!);
}
const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (isPolyvisorError(e) ? e.code : e));

beforeAll(async () => {
  d = await startDaemon();
  s = new SnapshotClient({ endpoint: { socketPath: d.socket } });
  b = new BackupClient({ endpoint: { socketPath: d.socket } });
});
afterEach(() => removeAllVms(d));
afterAll(async () => {
  await d?.stop();
  killQemusUnder(d.stateDir);
});

async function guestSum(): Promise<string> {
  const out = await guestShell(d.client, VM, 'sync; echo 3 > /proc/sys/vm/drop_caches; md5sum /dev/vda', limit('shell', 2));
  const m = /^([0-9a-f]{32})\s/m.exec(out);
  if (!m) throw new Error(`no md5sum in ${JSON.stringify(out)}`);
  return m[1]!;
}

async function scribble(offsetMiB: number): Promise<string> {
  await guestShell(d.client, VM, `dd if=/dev/urandom of=/dev/vda bs=1M count=2 seek=${offsetMiB} conv=fsync 2>/dev/null; sync`, limit('shell', 2));
  return guestSum();
}

/** md5 of the disk as the guest would read it, from the host (qemu-img convert -U to raw). */
function hostSum(file: string): string {
  const raw = path.join(d.stateDir, 'sum.raw');
  const r = spawnSync('qemu-img', ['convert', '-U', '-f', 'qcow2', '-O', 'raw', file, raw], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const sum = createHash('md5').update(readFileSync(raw)).digest('hex');
  rmSync(raw);
  return sum;
}

/** The chain opens and every image checks clean; returns it as node names from the active image down ('*' = active). */
async function chainOk(disk = 'data'): Promise<string[]> {
  const top = await active(disk);
  const r = spawnSync('qemu-img', ['info', '-U', '--backing-chain', '--output=json', top], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const files = (JSON.parse(r.stdout) as Array<{ filename: string }>).map((x) => path.resolve(dir, x.filename));
  const byFile = new Map((await s.list(VM)).snapshots.map((n) => [path.join(dir, n.files![disk]!), n.name]));
  for (const f of files) {
    const c = spawnSync('qemu-img', ['check', '-U', '-f', 'qcow2', f], { encoding: 'utf8' });
    expect(c.status, `${f}: ${c.stdout}${c.stderr}`).toBe(0);
  }
  return files.map((f) => (f === top ? '*' : byFile.get(f) ?? `unowned ${f}`));
}

/** The disk directory holds exactly the active images and the nodes' files, and both disks' chains match the tree. */
async function noStrays(): Promise<void> {
  const l = await s.list(VM);
  const want = [path.basename(await active()), path.basename(await active('logs')), ...l.snapshots.flatMap((n) => Object.values(n.files ?? {}))].sort();
  expect(readdirSync(dir).sort()).toEqual(want);
  expect(await chainOk('logs')).toEqual(await chainOk('data'));
}

/** Creates this test's VM (a data and a logs disk) and points the helpers at it. */
async function makeVm(name: string): Promise<void> {
  VM = name;
  const v = await d.client.createVm(guestSpec(VM, { disks: [{ name: 'data', size: '16Mi' }, { name: 'logs', size: '8Mi' }] }));
  dir = path.join(d.stateDir, 'vms', v.id, 'disks');
}

/** Writes a 2 MiB pattern into the stopped VM's active data image from the host. */
async function hostWrite(offsetMiB: number, pattern: number): Promise<void> {
  const r = spawnSync('qemu-io', ['-f', 'qcow2', '-c', `write -P ${pattern} ${offsetMiB}M 2M`, await active()], { encoding: 'utf8' });
  expect(r.status, r.stdout + r.stderr).toBe(0);
}

describe('external snapshots in the tree', () => {
  it('running: create, backup across overlays, delete middle, revert, delete with two dependents', async () => {
    await makeVm('overlay');
    await d.client.action(VM, 'start');
    await waitForLine(d.client, VM, READY);
    const full = await b.create(VM);
    const sumA = await scribble(0);
    const a = await s.create(VM, { name: 'a', type: 'external' });
    expect(a).toMatchObject({ type: 'external', kind: 'disk', parent: null, depth: 1, current: true, files: { data: 'data.qcow2', logs: 'logs.qcow2' } });
    // The busybox guest freezes no filesystem (it runs from an initramfs): crash-consistent, and it says so.
    expect(a).toMatchObject({ consistency: 'crash-consistent', frozenFilesystems: 0 });
    const sumB = await scribble(4);
    await s.create(VM, { name: 'b', type: 'external' });
    const sumC = await scribble(8);
    await s.create(VM, { name: 'c', type: 'external' });
    const sumNow = await scribble(12);
    expect(new Set([sumA, sumB, sumC, sumNow]).size).toBe(4);
    expect(await chainOk()).toEqual(['*', 'c', 'b', 'a']);
    expect(hostSum(await nodeFile('b'))).toBe(sumB);
    expect(hostSum(await nodeFile('a'))).toBe(sumA);

    // mixing is refused
    expect(await codeOf(s.create(VM, { name: 'x' }))).toBe('SNAPSHOT_UNSUPPORTED');
    // the dirty bitmap moved to each new overlay: the next backup is incremental and restores identically
    const inc = await b.create(VM);
    expect(inc).toMatchObject({ kind: 'incremental', parent: full.id });
    await d.client.action(VM, 'pause');
    const ref = hostSum(await active());
    await d.client.action(VM, 'resume');
    await b.restore(VM, inc.id, { toVm: 'overlay-copy' });
    expect(hostSum(path.join(d.stateDir, 'restored', 'overlay-copy', 'data.qcow2'))).toBe(ref);

    // delete the middle node b while running (block-stream into c's image)
    await s.remove(VM, 'b');
    expect((await s.list(VM)).snapshots.map((n) => [n.name, n.parent])).toEqual([['a', null], ['c', 'a']]);
    expect(await chainOk()).toEqual(['*', 'c', 'a']);
    expect(hostSum(await nodeFile('c'))).toBe(sumC);
    expect(await guestSum()).toBe(sumNow);
    await noStrays();

    // revert to a: the VM restarts on a fresh overlay of a
    const r = await s.revert(VM, 'a');
    expect(r).toMatchObject({ restarted: true, state: 'running', ram: false });
    await waitForLine(d.client, VM, READY);
    expect(await guestSum()).toBe(sumA);
    const sumA2 = await scribble(2);

    // a now has two dependents (c's image and the active one): delete it while running
    await s.remove(VM, 'a');
    expect((await s.list(VM)).snapshots.map((n) => [n.name, n.parent])).toEqual([['c', null]]);
    expect(await chainOk()).toEqual(['*']);
    expect(await guestSum()).toBe(sumA2);
    expect(hostSum(await nodeFile('c'))).toBe(sumC);
    await noStrays();
    const tree = await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), '--socket', d.socket, 'snapshot', 'list', VM], { encoding: 'utf8' });
    expect(tree.stdout).toMatch(/^└─ c {2}\[disk, crash-consistent, 0 fs frozen, external [\d.]+ \w+\] \d{4}-/m);
    // the revert made the next backup full (and it says so); the bitmap then survives the live merges
    expect((await b.create(VM)).fullReason).toMatch(/snapshot revert/);
    await scribble(6);
    expect((await b.create(VM)).kind).toBe('incremental');
  });

  it('stopped: create, delete with one dependent (commit) and with two (rebase), revert', async () => {
    // set-up, offline: a stopped VM with a backup and one external node c that is not current
    // (c holds other data than the active image), as a running VM's tree is after deleting its current root
    await makeVm('overlay-off');
    await d.client.action(VM, 'start');
    await d.client.action(VM, 'kill');
    await waitForState(d.client, VM, 'stopped');
    await b.create(VM);
    await hostWrite(0, 0x11);
    await s.create(VM, { name: 'a', type: 'external' });
    await hostWrite(4, 0x22);
    await s.create(VM, { name: 'c', type: 'external' });
    await s.revert(VM, 'a');
    await hostWrite(8, 0x33);
    await s.remove(VM, 'a');
    expect((await s.list(VM)).snapshots.map((n) => [n.name, n.parent, n.current])).toEqual([['c', null, false]]);

    const sumNow = hostSum(await active());
    const sumC = hostSum(await nodeFile('c'));
    const dd = await s.create(VM, { name: 'd', type: 'external' });
    expect(dd).toMatchObject({ consistency: 'offline', parent: null, depth: 1 }); // a, current, was deleted
    expect(await chainOk()).toEqual(['*', 'd']);
    // d's only dependent is the active image: qemu-img commit into d's file, which takes the active image's name
    await s.remove(VM, 'd');
    expect(await chainOk()).toEqual(['*']);
    expect(hostSum(await active())).toBe(sumNow);
    await noStrays();

    await s.revert(VM, 'c');
    expect(hostSum(await active())).toBe(sumC);
    await s.create(VM, { name: 'e', type: 'external', description: 'offline' });
    await s.revert(VM, 'c');
    expect(await chainOk()).toEqual(['*', 'c']);
    // c has two dependents (e's image and the active one): both are rebased onto nothing
    await s.remove(VM, 'c');
    expect(await chainOk()).toEqual(['*']);
    expect(hostSum(await active())).toBe(sumC);
    expect(hostSum(await nodeFile('e'))).toBe(sumC);
    await noStrays();
    const re = await s.revert(VM, 'e');
    expect(re).toMatchObject({ restarted: false, state: 'stopped' });
    expect(await chainOk()).toEqual(['*', 'e']);
    expect(hostSum(await active())).toBe(sumC);
    const l = await s.list(VM);
    expect(l.snapshots.map((n) => [n.name, n.type, n.current])).toEqual([['e', 'external', true]]);
    await noStrays();
    // the next backup is full, and says why
    const bk = await b.create(VM);
    expect(bk.kind).toBe('full');
    await d.client.action(VM, 'start');
    await waitForLine(d.client, VM, READY);
    expect(await guestSum()).toBe(sumC);

    // with the external tree gone, internal snapshots work on the overlay QEMU now runs on (its node is found in the block graph)
    await s.remove(VM, 'e');
    expect(await chainOk()).toEqual(['*']);
    await s.create(VM, { name: 'int1' });
    await scribble(3);
    expect((await s.revert(VM, 'int1')).ram).toBe(true);
    expect(await guestSum()).toBe(sumC);
    await d.client.action(VM, 'kill');
  });
});
