/**
 * The daemon killed with SIGKILL in the middle of a backup, a snapshot create
 * and a snapshot delete: the VM keeps running (re-adopted), no record exists
 * for unfinished work, no file is left that no record owns, and the same
 * command succeeds on the next run; the backup chain after the fault still
 * restores to an identical disk.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BackupClient, SnapshotClient } from '../src/client/index.js';
import { sleep } from '../src/shared/index.js';
import { killQemusUnder, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { daemonAlive, removeAllVms } from './helpers/isolate.js';
import { limit, scaled } from './helpers/limits.js';
import { guestShell } from './helpers/shell.js';
import { READY, guestSpec, waitForLine, waitForState } from './helpers/vm.js';

/** The VM of the running test (each test makes its own). */
let VM = '';
const stateDir = tempStateDir('faults');
let d: TestDaemon;
let diskPath = '';
const clients = () => ({ b: new BackupClient({ endpoint: { socketPath: d.socket } }), s: new SnapshotClient({ endpoint: { socketPath: d.socket } }) });

beforeAll(async () => {
  d = await startDaemon({ stateDir });
});
// a test that failed halfway through killDuring leaves no dead daemon, and no VM, to the next
afterEach(async () => {
  if (!daemonAlive(d)) d = await startDaemon({ stateDir });
  await removeAllVms(d);
});
afterAll(async () => {
  await d?.stop();
  killQemusUnder(stateDir);
});

/** Starts `op`, SIGKILLs the daemon `afterMs` later, starts it again and waits for the VM to be re-adopted. */
async function killDuring(op: () => Promise<unknown>, afterMs: number): Promise<void> {
  const p = op().catch(() => undefined);
  await sleep(scaled(afterMs));
  await d.kill9();
  await p;
  d = await startDaemon({ stateDir });
  await waitForState(d.client, VM, 'running');
}

function tags(): string[] {
  const r = spawnSync('qemu-img', ['snapshot', '-U', '-l', diskPath], { encoding: 'utf8' });
  return r.stdout.split('\n').slice(2).map((l) => l.trim().split(/\s+/)[1] ?? '').filter(Boolean);
}

/** Creates this test's VM (one 256 MiB data disk), starts it and waits for the guest. */
async function bootVm(name: string): Promise<string> {
  VM = name;
  const v = await d.client.createVm(guestSpec(VM, { disks: [{ name: 'data', size: '256Mi' }] }));
  diskPath = path.join(stateDir, 'vms', v.id, 'disks', 'data.qcow2');
  await d.client.action(VM, 'start');
  await waitForLine(d.client, VM, READY);
  return v.id;
}

describe('SIGKILL of the daemon halfway', () => {
  it('through a backup: no record, no stray file, the next runs succeed and restore identically', async () => {
    const id = await bootVm('fault');
    await guestShell(d.client, VM, 'dd if=/dev/urandom of=/dev/vda bs=1M count=96 conv=fsync 2>/dev/null; sync', limit('shell', 4));
    await killDuring(() => clients().b.create(VM), 150);
    const { b } = clients();
    const before = await b.list(VM);
    const dir = path.join(stateDir, 'backups', id);
    const owned = new Set(before.flatMap((r) => [`${r.id}.json`, ...r.disks.map((x) => x.file)]));
    const first = await b.create(VM);
    expect(readdirSync(dir).every((f) => owned.has(f) || f.startsWith(first.id))).toBe(true);
    expect((await b.verify(VM, first.id)).ok).toBe(true);

    await guestShell(d.client, VM, 'dd if=/dev/urandom of=/dev/vda bs=1M count=4 seek=200 conv=fsync 2>/dev/null; sync', limit('shell', 2));
    await d.client.action(VM, 'pause');
    const ref = path.join(stateDir, 'ref.raw');
    expect(spawnSync('qemu-img', ['convert', '-U', '-f', 'qcow2', '-O', 'raw', diskPath, ref]).status).toBe(0);
    await d.client.action(VM, 'resume');
    const inc = await b.create(VM);
    expect(inc.kind).toBe('incremental');
    await b.restore(VM, inc.id, { toVm: 'fault-copy' });
    expect(spawnSync('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', ref, path.join(stateDir, 'restored', 'fault-copy', 'data.qcow2')]).status).toBe(0);
  });

  it('through a snapshot create and a delete: the catalogue and the image agree, and the command works again', async () => {
    await bootVm('fault-snap');
    await killDuring(() => clients().s.create(VM, { name: 's1' }), 100);
    let { s } = clients();
    if (!(await s.list(VM)).snapshots.some((n) => n.name === 's1')) await s.create(VM, { name: 's1' });
    expect((await s.list(VM)).snapshots.map((n) => n.name)).toEqual(['s1']);
    expect(tags()).toEqual(['s1']);
    expect((await s.revert(VM, 's1')).state).toBe('running');

    await killDuring(() => clients().s.remove(VM, 's1'), 60);
    s = clients().s;
    if ((await s.list(VM)).snapshots.length > 0) await s.remove(VM, 's1');
    expect((await s.list(VM)).snapshots).toEqual([]);
    expect(tags()).toEqual([]);
    expect((await s.create(VM, { name: 's1' })).name).toBe('s1');
  });
});
