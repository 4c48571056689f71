/**
 * Cloning a VM with a real guest (TCG): the guest writes random data to its
 * qcow2 disk, an external snapshot makes the disk a chain, more writes; the
 * clone (CLI) gets one flat image with exactly the source's data, its own MAC
 * and no host port forwards; both VMs then run at once and write without
 * touching each other. Refusals (running source, taken name), and a clone
 * cancelled halfway or whose daemon is killed halfway leaves no VM behind.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OpsClient, PlatformClient, SnapshotClient } from '../src/client/index.js';
import { isPolyvisorError } from '../src/shared/index.js';
import type { CloneView } from '../src/spec/index.js';
import { killQemusUnder, startDaemon, tempStateDir, vmDirsIn, type TestDaemon } from './helpers/daemon.js';
import { freePort, runCli } from './helpers/http.js';
import { daemonAlive, removeAllVms } from './helpers/isolate.js';
import { limit, scaled } from './helpers/limits.js';
import { guestShell } from './helpers/shell.js';
import { limitSeconds } from './helpers/waits.js';
import { READY, guestSpec, waitForLine, waitForState } from './helpers/vm.js';

const DELAY_MS = scaled(10_000);
let d: TestDaemon;
let stateDir = '';
const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (isPolyvisorError(e) ? e.code : e));

/** The daemon every test starts with: it holds each clone at the test delay after the copy. */
const startDelayed = () => startDaemon({ stateDir, env: { POLYVISOR_TEST_DELAYS: `clone:after-copy=${DELAY_MS}` } });
let delayedPid = 0;
beforeAll(async () => {
  stateDir = tempStateDir('clone');
  d = await startDelayed();
  delayedPid = d.pid;
});
// a test that killed or replaced the daemon leaves the next one the delayed daemon again, and no VM
afterEach(async () => {
  if (d.pid !== delayedPid || !daemonAlive(d)) {
    await d.stop();
    d = await startDelayed();
    delayedPid = d.pid;
  }
  await removeAllVms(d);
});
afterAll(async () => {
  await d?.stop();
  killQemusUnder(stateDir);
});

async function diskSum(vm: string): Promise<string> {
  const out = await guestShell(d.client, vm, 'sync; echo 3 > /proc/sys/vm/drop_caches; md5sum /dev/vda', limit('shell', 2));
  const m = /^([0-9a-f]{32})\s/m.exec(out);
  if (!m) throw new Error(`no md5sum in ${JSON.stringify(out)}`);
  return m[1]!;
}
const scribble = (vm: string, offsetMiB: number) =>
  guestShell(d.client, vm, `dd if=/dev/urandom of=/dev/vda bs=1M count=2 seek=${offsetMiB} conv=fsync 2>/dev/null; sync`, limit('shell', 2));

function imageInfo(file: string): { 'backing-filename'?: string; 'virtual-size': number } {
  const r = spawnSync('qemu-img', ['info', '-U', '--output=json', file], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { 'backing-filename'?: string; 'virtual-size': number };
}

/** VM directories on disk (one per VM the store knows, if nothing leaked). */
const vmDirs = (): string[] => vmDirsIn(stateDir);

/** A stopped VM (started and killed once: its guest need not boot) with a 16 MiB data disk, to clone from. */
async function stoppedSource(name: string): Promise<string> {
  await d.client.createVm(guestSpec(name, { disks: [{ name: 'data', size: '16Mi' }] }));
  await d.client.action(name, 'start');
  await d.client.action(name, 'kill');
  await waitForState(d.client, name, 'stopped');
  return name;
}

describe('vm clone', () => {
  it('copies the disk chain flat, with its own MAC and no port forwards; both VMs run apart', async () => {
    const spec = guestSpec('orig', {
      disks: [{ name: 'data', size: '16Mi' }],
      networks: [{ name: 'net0', mac: '52:54:00:aa:bb:01', portForwards: [{ hostPort: await freePort(), guestPort: 80 }] }],
    });
    await d.client.createVm(spec);
    await d.client.action('orig', 'start');
    await waitForLine(d.client, 'orig', READY);
    await scribble('orig', 0);
    await new SnapshotClient({ endpoint: { socketPath: d.socket } }).create('orig', { name: 'ext', type: 'external' });
    await scribble('orig', 6);
    const sum = await diskSum('orig');
    const origDisk = (await d.client.getVm('orig')).spec.disks[0]!.path!;
    expect(imageInfo(origDisk)['backing-filename']).toBeTruthy(); // the source disk is a chain now

    expect(await codeOf(d.client.cloneVmAsync('orig', 'copy'))).toBe('INVALID_TRANSITION');
    await d.client.action('orig', 'stop');
    await waitForState(d.client, 'orig', 'stopped', limit('state', 2));

    // (run without blocking this process: it drains the daemon's log pipe)
    const cli = await runCli(['--socket', d.socket, 'vm', 'clone', 'orig', 'copy', '--json', '--no-progress']);
    expect(cli.code, cli.stderr).toBe(0);
    const r = JSON.parse(cli.stdout) as CloneView;
    expect(r).toMatchObject({ copied: ['data'], shared: [] });
    expect(r.vm).toMatchObject({ name: 'copy', state: 'created' });
    expect(r.notes.join('\n')).toMatch(/MAC 52:54:00:aa:bb:01 is not copied/);
    expect(r.notes.join('\n')).toMatch(/port forwards .* are not copied/);
    const copy = r.vm.spec;
    expect(copy.networks[0]!.mac).toBeUndefined();
    expect(copy.networks[0]!.portForwards).toEqual([]);
    expect(copy.disks[0]!.path).toBeUndefined();
    expect(copy.disks[0]!.size).toBe(16 * 1024 ** 2);
    const copyDisk = path.join(r.vm.files.dir, 'disks', 'data.qcow2');
    expect(imageInfo(copyDisk)['backing-filename']).toBeUndefined(); // flat: nothing shared with the source

    // the clone sees exactly the source's data; then each writes without touching the other
    await d.client.action('copy', 'start');
    await d.client.action('orig', 'start');
    await waitForLine(d.client, 'copy', READY);
    await waitForLine(d.client, 'orig', READY);
    expect(await diskSum('copy')).toBe(sum);
    await scribble('copy', 10);
    const copySum = await diskSum('copy');
    expect(copySum).not.toBe(sum);
    expect(await diskSum('orig')).toBe(sum);
    const macs = await Promise.all(['orig', 'copy'].map((vm) => guestShell(d.client, vm, 'cat /sys/class/net/eth0/address')));
    expect(macs[0]).toContain('52:54:00:aa:bb:01');
    expect(macs[1]).not.toContain('52:54:00:aa:bb:01');

    expect(await codeOf(d.client.cloneVmAsync('orig', 'copy'))).toBe('INVALID_TRANSITION');
    await d.client.action('orig', 'kill');
    await d.client.action('copy', 'kill');
    expect(await codeOf(d.client.cloneVmAsync('orig', 'copy'))).toBe('VM_EXISTS');
    expect(await codeOf(d.client.cloneVmAsync('orig', '../evil'))).toBe('INVALID_NAME');
    expect(await codeOf(d.client.cloneVmAsync('orig', 'x', guestSpec('y')))).toBe('INVALID_BODY');
  });

  it('a clone cancelled halfway leaves no VM and no files', async () => {
    const src = await stoppedSource('orig-cancel');
    const before = vmDirs();
    const p = new PlatformClient({ endpoint: { socketPath: d.socket } });
    const op = await d.client.cloneVmAsync(src, 'half');
    // the copy is done and the daemon waits at the test delay before recording the VM: cancel there
    await new Promise((r) => setTimeout(r, scaled(3000)));
    await p.cancelOperation(op.id);
    const end = await p.waitOperation(op.id, limitSeconds('operation', 0.5));
    expect(end.status).toBe('cancelled');
    expect(end.error?.code).toBe('ABORTED');
    expect(await codeOf(d.client.getVm('half'))).toBe('VM_NOT_FOUND');
    expect(vmDirs().sort()).toEqual(before.sort());
    expect((await d.client.getVm(src)).state).toBe('stopped'); // the source is free again
  });

  it('the daemon killed halfway through a clone: no VM after the restart, doctor names the leftover copy, and the clone then works', async () => {
    const src = await stoppedSource('orig-killed');
    const before = vmDirs();
    const op = await d.client.cloneVmAsync(src, 'again');
    await new Promise((r) => setTimeout(r, scaled(3000)));
    await d.kill9();
    d = await startDaemon({ stateDir });
    expect(await codeOf(d.client.getVm('again'))).toBe('VM_NOT_FOUND');
    expect(op.status).toBe('running');
    // the partial copy sits in a directory no VM owns: doctor lists it with the command that removes it
    const leftover = vmDirs().filter((x) => !before.includes(x));
    expect(leftover).toHaveLength(1);
    const report = await new OpsClient({ endpoint: { socketPath: d.socket } }).doctor();
    const f = report.findings.find((x) => x.check === 'orphan-dir' && x.subject?.endsWith(leftover[0]!));
    expect(f?.fix?.argv).toEqual(['rm', '-r', '--', path.join(stateDir, 'vms', leftover[0]!)]);
    const p = new PlatformClient({ endpoint: { socketPath: d.socket } });
    const done = await p.waitOperation((await d.client.cloneVmAsync(src, 'again')).id, limitSeconds('operation'));
    expect(done.status).toBe('succeeded');
    const v = (done.result as CloneView).vm;
    expect(existsSync(path.join(v.files.dir, 'disks', 'data.qcow2'))).toBe(true);
    expect((await d.client.getVm('again')).state).toBe('created');
  });
});
