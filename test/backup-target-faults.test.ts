/**
 * The backup target fails under a running backup: a tmpfs of 8 MiB that
 * fills up (BACKUP_TARGET_FULL), and a target unmounted halfway through a
 * bandwidth-limited backup followed as an operation (BACKUP_TARGET_GONE).
 * Each time: no record, no partial file, the VM keeps running, and once the
 * target is back the next backup is an incremental of the last good one
 * that restores to an identical disk. Also shows the operation's progress.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BackupClient, PlatformClient, type BackupEntry } from '../src/client/index.js';
import { isPolyvisorError, sleep } from '../src/shared/index.js';
import { killQemusUnder, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit, scaled } from './helpers/limits.js';
import { guestShell } from './helpers/shell.js';
import { limitSeconds } from './helpers/waits.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';

/** The VM of the running test (each test makes its own). */
let VM = '';
const stateDir = tempStateDir('bktarget');
const mounted: string[] = [];
let d: TestDaemon;
let b: BackupClient;
let diskPath = '';
let bdir = '';

/** Mounts a tmpfs of `size` over `dir`, carrying the files that were there. */
function mountTmpfs(dir: string, size: string): void {
  const hold = mkdtempSync(path.join(stateDir, 'hold-'));
  cpSync(dir, hold, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0750`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount: ${r.stderr}`);
  mounted.push(dir);
  cpSync(hold, dir, { recursive: true });
  rmSync(hold, { recursive: true });
}

function unmount(dir: string, lazy = false): void {
  const r = spawnSync('umount', [...(lazy ? ['-l'] : []), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`umount: ${r.stderr}`);
  mounted.splice(mounted.indexOf(dir), 1);
}

beforeAll(async () => {
  d = await startDaemon({ stateDir });
  b = new BackupClient({ endpoint: { socketPath: d.socket } });
});
// no test leaves a mount or a VM to the next
afterEach(async () => {
  for (const m of [...mounted].reverse()) {
    spawnSync('umount', ['-l', m]);
    mounted.splice(mounted.indexOf(m), 1);
  }
  await removeAllVms(d);
});
afterAll(async () => {
  for (const m of [...mounted].reverse()) spawnSync('umount', ['-l', m]);
  await d?.stop();
  killQemusUnder(stateDir);
});

const write = (mib: number, seekMiB: number) => guestShell(d.client, VM, `dd if=/dev/urandom of=/dev/vda bs=1M count=${mib} seek=${seekMiB} conv=fsync 2>/dev/null; sync`, limit('shell', 4));

/** The incremental restores to exactly the disk as it was when taken (reference copied while paused). */
async function restoresIdentically(take: () => Promise<BackupEntry>, copy: string): Promise<BackupEntry> {
  await d.client.action(VM, 'pause');
  const ref = path.join(stateDir, `${copy}.raw`);
  expect(spawnSync('qemu-img', ['convert', '-U', '-f', 'qcow2', '-O', 'raw', diskPath, ref]).status).toBe(0);
  await d.client.action(VM, 'resume');
  // nothing writes between the copy and the backup: the guest's writes are synced and it is idle
  const r = await take();
  await b.restore(VM, r.id, { toVm: copy });
  expect(spawnSync('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', ref, path.join(stateDir, 'restored', copy, 'data.qcow2')]).status).toBe(0);
  return r;
}

/** Creates this test's VM (a 64 MiB data disk), starts it and waits for the guest. */
async function bootVm(name: string): Promise<void> {
  VM = name;
  const v = await d.client.createVm(guestSpec(VM, { disks: [{ name: 'data', size: '64Mi' }] }));
  diskPath = path.join(stateDir, 'vms', v.id, 'disks', 'data.qcow2');
  bdir = path.join(stateDir, 'backups', v.id);
  await d.client.action(VM, 'start');
  await waitForLine(d.client, VM, READY);
}

describe('backup target faults', () => {
  it('a full target: BACKUP_TARGET_FULL, nothing recorded or left, and the chain goes on after', async () => {
    await bootVm('tgt-full');
    await write(1, 0);
    const full = await b.create(VM);
    mountTmpfs(bdir, '8M');
    await write(24, 8);
    const before = readdirSync(bdir).sort();
    const err = await b.create(VM).catch((e: unknown) => e);
    expect(isPolyvisorError(err) && err.code, String(err)).toBe('BACKUP_TARGET_FULL');
    expect((err as Error).message).toContain('is full');
    expect(readdirSync(bdir).sort()).toEqual(before);
    expect((await b.list(VM)).map((r) => r.id)).toEqual([full.id]);
    expect((await d.client.getVm(VM)).state).toBe('running');

    unmount(bdir); // "a bigger target": the directory underneath, which holds the same chain
    const last = await restoresIdentically(() => b.create(VM), 'after-full');
    expect(last).toMatchObject({ kind: 'incremental', parent: full.id });
  });

  it('a target unmounted halfway: BACKUP_TARGET_GONE, the VM runs on, the next backup is incremental; progress is reported', async () => {
    // set-up: a running guest with a good chain (a full and an incremental) on the plain target
    await bootVm('tgt-gone');
    await write(1, 0);
    await b.create(VM);
    await write(4, 2);
    const last = await b.create(VM);
    expect(last.kind).toBe('incremental');
    mountTmpfs(bdir, '256M');
    await write(32, 16);
    const p = new PlatformClient({ endpoint: { socketPath: d.socket } });
    const op = await b.createAsync(VM, { bwlimitMiB: 4 });
    let cur = op;
    const deadline = Date.now() + scaled(20_000);
    while (cur.status === 'running' && !((cur.detail?.['doneBytes'] as number) > 0)) {
      if (Date.now() > deadline) throw new Error('no progress reported');
      await sleep(100);
      cur = await p.getOperation(op.id);
    }
    expect(cur.detail).toMatchObject({ phase: 'copying' });
    expect(cur.detail?.['totalBytes']).toBeGreaterThan(cur.detail?.['doneBytes'] as number);
    unmount(bdir, true);
    cur = await p.waitOperation(op.id, limitSeconds('operation'));
    expect(cur.status).toBe('failed');
    expect(cur.error?.code).toBe('BACKUP_TARGET_GONE');
    expect((await d.client.getVm(VM)).state).toBe('running');
    const records = await b.list(VM);
    expect(records.map((r) => r.id)).toEqual([records[0]!.id, last.id]);
    const owned = new Set(records.flatMap((r) => [`${r.id}.json`, ...r.disks.map((x) => x.file)]));
    expect(readdirSync(bdir).filter((f) => !owned.has(f))).toEqual([]);

    // the next one, followed as an operation, reports rising progress and is an incremental of the last good backup
    const next = await restoresIdentically(async () => {
      const o = await b.createAsync(VM, { bwlimitMiB: 16 });
      const seen = new Set<number>();
      let c = o;
      while (c.status === 'running') {
        c = await p.waitOperation(o.id, 1);
        const done = c.detail?.['doneBytes'];
        if (typeof done === 'number' && c.status === 'running') seen.add(done);
      }
      expect(c.status).toBe('succeeded');
      expect(seen.size).toBeGreaterThanOrEqual(2);
      return c.result as BackupEntry;
    }, 'after-gone');
    expect(next).toMatchObject({ kind: 'incremental', parent: last.id });
  });
});
