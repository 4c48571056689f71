/**
 * fsfreeze reported honestly, on the real Debian 12 guest: a disk-only
 * snapshot taken while a writer runs inside is labelled
 * application-consistent with 1+ frozen filesystems, the writer goes on
 * after the thaw, and the snapshot's ext4 (read out of the qcow2 with
 * `qemu-img convert -l snapshot.name=…`) is clean by `e2fsck -fn` — ext4's
 * freeze flushes the journal, so no recovery is pending in the image.
 * Without an agent the label is crash-consistent and the snapshot's ext4
 * still has its journal marked for recovery (the control for the check).
 * (The busybox guest's crash-consistent label is checked in
 * test/snapshots.test.ts and test/snapshots-external.test.ts.)
 */
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotClient } from '../src/client/index.js';
import { ROOT, killQemusUnder, startDaemon, vmTempDir, type TestDaemon } from './helpers/daemon.js';
import {
  DEBIAN_BUILD_TIMEOUT_MS, agentSocketOf, debianGuest, debianSpec, guestSh, guestSpawn, overlayOf, waitForAgent, type DebianGuest,
} from './helpers/debian-guest.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit } from './helpers/limits.js';
import { waitForState } from './helpers/vm.js';

let d: TestDaemon;
let g: DebianGuest;
let s: SnapshotClient;
let work: string;

beforeAll(async () => {
  g = debianGuest(true);
  d = await startDaemon();
  s = new SnapshotClient({ endpoint: { socketPath: d.socket } });
  work = vmTempDir('deb-fs');
}, DEBIAN_BUILD_TIMEOUT_MS);
afterAll(async () => {
  if (d) await removeAllVms(d);
  await d?.stop();
  if (d) killQemusUnder(d.stateDir);
});

/** How many write rounds the guest's writer has finished. */
async function rounds(sock: string): Promise<number> {
  const r = await guestSh(sock, 'cat /var/tmp/pv-writer/count 2>/dev/null || echo 0');
  return Number(r.stdout.trim());
}

async function waitRounds(sock: string, atLeast: number): Promise<number> {
  const deadline = Date.now() + limit('operation');
  for (;;) {
    const n = await rounds(sock);
    if (n >= atLeast) return n;
    if (Date.now() > deadline) throw new Error(`the writer in the guest did only ${n} of ${atLeast} rounds`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** e2fsck -fn on snapshot `tag` of `image`, copied out to a raw file. */
function fsckSnapshot(image: string, tag: string): { status: number | null; out: string } {
  const raw = path.join(work, `${tag}.raw`);
  const c = spawnSync('qemu-img', ['convert', '-l', `snapshot.name=${tag}`, '-O', 'raw', image, raw], { encoding: 'utf8' });
  if (c.status !== 0) throw new Error(`qemu-img convert -l snapshot.name=${tag}: ${c.stderr}`);
  const f = spawnSync('e2fsck', ['-fn', raw], { encoding: 'utf8' });
  return { status: f.status, out: f.stdout + f.stderr };
}

describe('fsfreeze on the Debian guest', () => {
  it('a disk snapshot under a running writer is application-consistent, frozen 1+ filesystems, and its ext4 is clean', async () => {
    const vm = 'deb-fs';
    const overlay = overlayOf(g, path.join(work, 'root.qcow2'));
    await d.client.createVm(debianSpec(vm, g, overlay));
    await d.client.action(vm, 'start');
    const sock = agentSocketOf(d.stateDir, (await d.client.getVm(vm)).id);
    await waitForAgent(sock);

    // a writer: 16 rotating 2 MiB files, each written and fsynced, a round counter after each
    await guestSpawn(sock, ['/bin/sh', '-c',
      'mkdir -p /var/tmp/pv-writer; cd /var/tmp/pv-writer; i=0; while :; do '
      + 'dd if=/dev/urandom of=f$((i % 16)) bs=64k count=32 conv=fsync 2>/dev/null; i=$((i + 1)); echo $i > count.tmp; mv count.tmp count; done']);
    const before = await waitRounds(sock, 3);

    const snap = await s.create(vm, { name: 'frozen', ram: false, description: 'under a writer' });
    expect(snap).toMatchObject({ kind: 'disk', type: 'internal', consistency: 'application-consistent' });
    expect(snap.frozenFilesystems).toBeGreaterThanOrEqual(1);
    expect(snap.freezeNote).toBeUndefined();
    // the listing keeps the count, and the CLI shows it
    const listed = (await s.list(vm)).snapshots.find((n) => n.name === 'frozen');
    expect(listed?.frozenFilesystems).toBe(snap.frozenFilesystems);
    const cli = await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), '--socket', d.socket, 'snapshot', 'list', vm], { encoding: 'utf8' });
    expect(cli.stdout).toMatch(new RegExp(`frozen \\* {2}\\[disk, application-consistent, ${snap.frozenFilesystems} fs frozen\\]`));

    // thawed: the writer goes on, and the agent answers normal commands again
    await waitRounds(sock, before + 3);
    expect((await guestSh(sock, 'findmnt -no FSTYPE /')).stdout.trim()).toBe('ext4');

    await d.client.action(vm, 'stop');
    await waitForState(d.client, vm, 'stopped', limit('state', 4));
    const fsck = fsckSnapshot(overlay, 'frozen');
    expect(fsck.out).not.toMatch(/recovery|needs_recovery/i);
    expect(fsck.status, fsck.out).toBe(0);
  }, limit('boot', 12));

  it('without an agent the same snapshot is crash-consistent, and its ext4 still needs journal recovery', async () => {
    const vm = 'deb-noagent';
    const overlay = overlayOf(g, path.join(work, 'noagent.qcow2'));
    await d.client.createVm(debianSpec(vm, g, overlay, { agent: { enabled: false } }));
    await d.client.action(vm, 'start');
    // booted: the serial getty's prompt (there is no agent to ask)
    const deadline = Date.now() + limit('boot', 4);
    while (!(await d.client.serialLog(vm, 1024 * 1024)).includes('login:')) {
      if (Date.now() > deadline) throw new Error(`${vm}: no login prompt on the serial console`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const snap = await s.create(vm, { name: 'unfrozen', ram: false });
    expect(snap).toMatchObject({ consistency: 'crash-consistent', frozenFilesystems: 0 });
    expect(snap.freezeNote).toMatch(/no guest agent/);
    await d.client.action(vm, 'stop');
    await waitForState(d.client, vm, 'stopped', limit('state', 4));
    // the control for the test above: a mounted ext4 caught unfrozen has its journal marked for recovery
    expect(fsckSnapshot(overlay, 'unfrozen').out).toMatch(/journal recovery/i);
  }, limit('boot', 12));
});
