/**
 * Backups with a real guest (TCG): a full and three incremental backups of a
 * running VM each restore to an image identical (qemu-img compare) to the
 * disk at that point (copied while the VM was paused, which flushes QEMU's
 * caches); the chain survives a graceful stop, falls back to full (saying
 * why) after a kill or a snapshot revert; offline backups; verify catches a
 * changed file; retention keeps whole chains; restore over the same VM.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BackupClient, SnapshotClient, type BackupEntry } from '../src/client/index.js';
import { isPolyvisorError } from '../src/shared/index.js';
import { ROOT, killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { collectEvents } from './helpers/events.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit } from './helpers/limits.js';
import { guestShell } from './helpers/shell.js';
import { READY, guestSpec, waitForLine, waitForState } from './helpers/vm.js';

let d: TestDaemon;
let b: BackupClient;
const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (isPolyvisorError(e) ? e.code : e));
/** The VM of the running test (each test makes its own) and its data disk. */
let VM = '';
let diskPath = '';

beforeAll(async () => {
  d = await startDaemon();
  b = new BackupClient({ endpoint: { socketPath: d.socket } });
});
afterEach(() => removeAllVms(d));
afterAll(async () => {
  await d?.stop();
  killQemusUnder(d.stateDir);
});

function qemuImg(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync('qemu-img', args, { encoding: 'utf8', timeout: limit('operation') });
  return { status: r.status, out: r.stdout + r.stderr };
}

async function scribble(offsetMiB: number, mib = 2): Promise<void> {
  await guestShell(d.client, VM, `dd if=/dev/urandom of=/dev/vda bs=1M count=${mib} seek=${offsetMiB} conv=fsync 2>/dev/null; sync`, limit('shell', 2));
}

/** The disk as it is now: the VM is paused (QEMU drains and flushes) while qemu-img copies it. */
async function reference(tag: string): Promise<string> {
  const ref = path.join(d.stateDir, `ref-${tag}.raw`);
  await d.client.action(VM, 'pause');
  const r = qemuImg('convert', '-U', '-f', 'qcow2', '-O', 'raw', diskPath, ref);
  await d.client.action(VM, 'resume');
  expect(r.status, r.out).toBe(0);
  return ref;
}

function sameAs(ref: string, image: string): boolean {
  const r = qemuImg('compare', '-f', 'raw', '-F', 'qcow2', ref, image);
  if (r.status !== 0 && r.status !== 1) throw new Error(r.out);
  return r.status === 0;
}

/** Creates this test's VM with a 32 MiB data disk and points the helpers at it. */
async function makeVm(name: string): Promise<void> {
  VM = name;
  const v = await d.client.createVm(guestSpec(VM, { disks: [{ name: 'data', size: '32Mi' }] }));
  diskPath = path.join(d.stateDir, 'vms', v.id, 'disks', 'data.qcow2');
}

describe('backups of a running guest', () => {
  it('full + 3 incrementals each restore to exactly the disk at that point', async () => {
    const taken: Array<{ backup: BackupEntry; ref: string }> = [];
    await makeVm('bk');
    await d.client.action(VM, 'start');
    await waitForLine(d.client, VM, READY);
    for (let i = 0; i < 4; i++) {
      await (i === 0 ? scribble(0, 16) : scribble(16 + i * 4));
      const ref = await reference(String(i));
      const backup = await b.create(VM);
      taken.push({ backup, ref });
    }
    const [full, ...incs] = taken.map((t) => t.backup);
    expect(full).toMatchObject({ kind: 'full', mode: 'live', parent: null });
    expect(full!.fullReason).toBeUndefined();
    incs.forEach((x, i) => expect(x).toMatchObject({ kind: 'incremental', parent: taken[i]!.backup.id }));
    const size = (x: BackupEntry) => x.disks[0]!.sizeBytes;
    for (const x of incs) expect(size(x)).toBeLessThan(size(full!) * 0.6);
    for (const [i, t] of taken.entries()) {
      const r = await b.restore(VM, t.backup.id, { toVm: `r${i}` });
      expect(r).toMatchObject({ createdVm: true, vm: `r${i}`, disks: ['data'] });
      const restored = path.join(d.stateDir, 'restored', `r${i}`, 'data.qcow2');
      expect(sameAs(t.ref, restored), `restore of backup ${i}`).toBe(true);
      if (i > 0) expect(sameAs(taken[i - 1]!.ref, restored)).toBe(false);
    }
    expect((await b.verify(VM, incs[2]!.id)).ok).toBe(true);
  });

  it('keeps the chain over a graceful stop and says why it goes full after a kill or a revert', async () => {
    // set-up: a running guest with data and a full backup (its dirty bitmap tracks what follows)
    await makeVm('bk-chain');
    await d.client.action(VM, 'start');
    await waitForLine(d.client, VM, READY);
    await scribble(0, 16);
    expect(await b.create(VM)).toMatchObject({ kind: 'full' });
    await d.client.action(VM, 'stop', { timeoutSeconds: 30 });
    await waitForState(d.client, VM, 'stopped');
    await d.client.action(VM, 'start');
    await waitForLine(d.client, VM, READY);
    await scribble(1);
    expect(await b.create(VM)).toMatchObject({ kind: 'incremental' });

    // a snapshot revert with RAM while a dirty bitmap exists: QEMU's rule is handled, the next backup is full
    const s = new SnapshotClient({ endpoint: { socketPath: d.socket } });
    await s.create(VM, { name: 'before' });
    await scribble(3);
    const rv = await s.revert(VM, 'before');
    expect(rv.state).toBe('running');
    expect(rv.bitmapsReset.length).toBeGreaterThan(0);
    expect((await d.client.getVm(VM)).state).toBe('running');
    const afterRevert = await b.create(VM);
    expect(afterRevert.kind).toBe('full');
    expect(afterRevert.fullReason).toMatch(/snapshot revert/);
    await s.remove(VM, 'before');

    // QEMU killed with SIGKILL: the bitmap was never saved, so it cannot be trusted
    const pid = (await d.client.getVm(VM)).runtime?.pid;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');
    await waitForState(d.client, VM, 'stopped');
    await d.client.action(VM, 'start');
    await waitForLine(d.client, VM, READY);
    const afterKill = await b.create(VM);
    expect(afterKill.kind).toBe('full');
    expect(afterKill.fullReason).toMatch(/bitmap/);
    const ref = await reference('k');
    const inc = await b.create(VM);
    expect(inc.kind).toBe('incremental');
    await b.restore(VM, inc.id, { toVm: 'rk' });
    expect(sameAs(ref, path.join(d.stateDir, 'restored', 'rk', 'data.qcow2'))).toBe(true);
  });

  it('backs up a stopped VM, verifies, prunes whole chains and restores over the VM', async () => {
    // set-up: an older backup chain (for the prune to remove), and the VM running (no need to wait for its guest)
    await makeVm('bk-off');
    const taken = [{ backup: await b.create(VM) }];
    await d.client.action(VM, 'start');
    await d.client.action(VM, 'kill');
    const events = await collectEvents(d.socket, VM, (e) => (e.type === 'vm.backups' ? `${e.action} ${e.name ?? ''}`.trim() : undefined));
    const off = await b.create(VM);
    expect(off).toMatchObject({ kind: 'full', mode: 'offline' });
    expect(off.fullReason).toMatch(/stopped/);
    const ref = path.join(d.stateDir, 'ref-off.raw');
    expect(qemuImg('convert', '-f', 'qcow2', '-O', 'raw', diskPath, ref).status).toBe(0);
    await d.client.action(VM, 'start');
    await waitForLine(d.client, VM, READY);
    await scribble(9);
    const inc = await b.create(VM);
    expect(inc).toMatchObject({ kind: 'incremental', parent: off.id, mode: 'live' });

    const all = await b.list(VM);
    const dry = await b.prune(VM, { keepLast: 1 }, true);
    expect(dry.kept.map((k) => k.id)).toEqual([off.id, inc.id]);
    expect((await b.list(VM)).length).toBe(all.length);
    const pr = await b.prune(VM, { keepLast: 1 });
    expect(pr.removed.length).toBe(all.length - 2);
    expect((await b.list(VM)).map((x) => x.id)).toEqual([off.id, inc.id]);
    // the catalogue's changes were announced on the event stream; the dry run changed nothing and said nothing
    events.stop();
    expect(events.seen).toEqual([`created ${off.id}`, `created ${inc.id}`, 'pruned']);
    expect(await codeOf(b.verify(VM, taken[0]!.backup.id))).toBe('BACKUP_NOT_FOUND');
    expect(existsSync(path.join(d.stateDir, 'backups', (await d.client.getVm(VM)).id, taken[0]!.backup.disks[0]!.file))).toBe(false);

    expect(await codeOf(b.restore(VM, off.id, {}))).toBe('CONFIRMATION_REQUIRED');
    expect(await codeOf(b.restore(VM, off.id, { confirm: true }))).toBe('INVALID_TRANSITION');
    await d.client.action(VM, 'kill');
    expect(await b.restore(VM, off.id, { confirm: true })).toMatchObject({ createdVm: false });
    expect(sameAs(ref, diskPath)).toBe(true);

    // a changed file fails verification (and restore refuses it)
    appendFileSync(path.join(d.stateDir, 'backups', (await d.client.getVm(VM)).id, off.disks[0]!.file), Buffer.alloc(512));
    const v = await b.verify(VM, inc.id);
    expect(v.ok).toBe(false);
    expect(v.problems.join()).toContain(`${off.id}/data: sha256`);
    expect(await codeOf(b.restore(VM, inc.id, { toVm: 'bad' }))).toBe('BACKUP_VERIFY_FAILED');

    const cli = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), '--socket', d.socket, 'backup', 'list', VM], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^ID\s+KIND\s+MODE/);
    expect(cli.stdout).toContain(inc.id);
  });
});
