/**
 * VMs outlive the daemon: SIGKILL the daemon while VMs run, kill one QEMU
 * meanwhile, restart the daemon on the same state directory: the live VMs
 * are re-adopted and controllable, the dead one is marked stopped with why.
 * Each test builds the situation it starts from itself (its own VMs, the
 * daemon killed and started again where it needs that).
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { killQemusUnder, processesUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { daemonAlive, removeAllVms } from './helpers/isolate.js';
import { limit, scaled } from './helpers/limits.js';
import { limitSeconds } from './helpers/waits.js';
import { READY, countLines, guestSpec, waitForLine } from './helpers/vm.js';

let d: TestDaemon;
let stateDir: string;
beforeAll(async () => {
  d = await startDaemon();
  stateDir = d.stateDir;
});
// a test that failed with the daemon down leaves the next one a running daemon, and no VM
afterEach(async () => {
  if (!daemonAlive(d)) d = await startDaemon({ stateDir });
  await removeAllVms(d);
});
afterAll(async () => {
  await d?.stop();
  killQemusUnder(stateDir);
});

const names = ['keep-a', 'keep-b', 'paused-c', 'dies-d'];
const pids: Record<string, number> = {};

/** Set-up: creates and starts `which` of the four (all by default), waits for their guests if `ready`, pauses paused-c. */
async function startFleet(which: string[] = names, ready = true): Promise<void> {
  for (const k of Object.keys(pids)) delete pids[k];
  for (const n of which) {
    await d.client.createVm(guestSpec(n));
    pids[n] = (await d.client.action(n, 'start')).runtime!.pid;
  }
  if (ready) await Promise.all(which.map((n) => waitForLine(d.client, n, READY)));
  if (which.includes('paused-c')) await d.client.action('paused-c', 'pause');
}

/** Set-up: SIGKILLs the daemon and, meanwhile, dies-d's QEMU (if it runs); waits until that QEMU is gone. */
async function killDaemonAndDiesD(): Promise<void> {
  await d.kill9();
  const dies = pids['dies-d'];
  if (dies === undefined || !processesUnder(stateDir).includes(dies)) return;
  process.kill(dies, 'SIGKILL');
  const deadline = Date.now() + scaled(5_000);
  while (Date.now() < deadline && processesUnder(stateDir).includes(dies)) await new Promise((r) => setTimeout(r, 100));
}

it('starts four VMs and pauses one', async () => {
  for (const n of names) {
    await d.client.createVm(guestSpec(n));
    pids[n] = (await d.client.action(n, 'start')).runtime!.pid;
  }
  await Promise.all(names.map((n) => waitForLine(d.client, n, READY)));
  await d.client.action('paused-c', 'pause');
});

it('the daemon dies by SIGKILL; the VMs keep running', async () => {
  await startFleet(names, false);
  await d.kill9();
  const live = processesUnder(stateDir);
  for (const n of names) expect(live).toContain(pids[n]);
  process.kill(pids['dies-d']!, 'SIGKILL'); // one QEMU dies while nobody watches
  const deadline = Date.now() + scaled(5_000);
  while (Date.now() < deadline && processesUnder(stateDir).includes(pids['dies-d']!)) await new Promise((r) => setTimeout(r, 100));
});

it('a restarted daemon re-adopts every live VM and marks the dead one stopped', async () => {
  await startFleet(names, false);
  await killDaemonAndDiesD();
  d = await startDaemon({ stateDir });
  const vms = Object.fromEntries((await d.client.listVms()).map((v) => [v.name, v]));
  expect(vms['keep-a']!.state).toBe('running');
  expect(vms['keep-b']!.state).toBe('running');
  expect(vms['paused-c']!.state).toBe('paused');
  expect(vms['keep-a']!.runtime!.pid).toBe(pids['keep-a']);
  expect(vms['dies-d']!.state).toBe('stopped');
  expect(vms['dies-d']!.stateReason).toMatch(/QEMU exited while the daemon was down/);
  expect(vms['dies-d']!.runtime).toBeNull();
});

it('re-adopted VMs are fully controllable', async () => {
  await startFleet(names);
  await killDaemonAndDiesD();
  d = await startDaemon({ stateDir });
  expect((await d.client.action('paused-c', 'resume')).state).toBe('running');
  expect((await d.client.action('keep-a', 'pause')).state).toBe('paused');
  expect((await d.client.action('keep-a', 'resume')).state).toBe('running');
  const before = countLines(await d.client.serialLog('keep-b', 1 << 20), READY);
  await d.client.action('keep-b', 'reboot');
  await waitForLine(d.client, 'keep-b', READY, { count: before + 1 });
  const stopped = await d.client.action('keep-a', 'stop', { timeoutSeconds: limitSeconds('state', 2) });
  expect(stopped.stateReason).toBe('guest powered off');
  // The dead one starts again from scratch.
  expect((await d.client.action('dies-d', 'start')).state).toBe('running');
});

it('a guest powering itself off is noticed by the re-adopted daemon', async () => {
  await startFleet(['paused-c']);
  await killDaemonAndDiesD();
  d = await startDaemon({ stateDir });
  await d.client.action('paused-c', 'resume');
  const ws = d.client.openConsole('paused-c');
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  ws.send('poweroff -f\n');
  const deadline = Date.now() + limit('state');
  while (Date.now() < deadline) {
    if ((await d.client.getVm('paused-c')).state === 'stopped') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  ws.close();
  const v = await d.client.getVm('paused-c');
  expect(v.state).toBe('stopped');
  expect(processesUnder(stateDir)).not.toContain(pids['paused-c']);
});

it('cleans up', async () => {
  await startFleet(['keep-b', 'dies-d'], false);
  await d.kill9();
  d = await startDaemon({ stateDir });
  for (const n of ['keep-b', 'dies-d']) await d.client.action(n, 'kill');
  expect(processesUnder(stateDir)).toEqual([]);
});
