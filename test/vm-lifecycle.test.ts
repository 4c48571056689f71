/**
 * The life of one VM through the real daemon and real QEMU (TCG): create,
 * start, readiness line, pause, resume, reboot, suspend to disk and resume,
 * graceful stop, rm. Each step is a test of its own that brings its own VM
 * to the state the step starts from.
 */
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killQemusUnder, processesUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit } from './helpers/limits.js';
import { limitSeconds } from './helpers/waits.js';
import { READY, countLines, guestSpec, waitForLine } from './helpers/vm.js';

let d: TestDaemon;

beforeAll(async () => {
  d = await startDaemon();
});
afterEach(() => removeAllVms(d));
afterAll(async () => {
  await d?.stop();
  killQemusUnder(d.stateDir);
});

/** Set-up: creates `vm` and brings it to `state` ('ready': running with its guest up; 'stopped': started and killed once). */
async function lifeVm(vm: string, state: 'created' | 'running' | 'ready' | 'stopped'): Promise<string> {
  await d.client.createVm(guestSpec(vm));
  if (state === 'created') return vm;
  await d.client.action(vm, 'start');
  if (state === 'ready') await waitForLine(d.client, vm, READY);
  if (state === 'stopped') await d.client.action(vm, 'kill');
  return vm;
}

describe('one VM, whole lifecycle', () => {
  /** The VM of the running test (each test makes its own). */
  let name = '';

  it('creates a VM in state created, with defaults applied', async () => {
    name = 'life-create';
    const v = await d.client.createVm(guestSpec(name));
    expect(v.state).toBe('created');
    expect(v.spec.cpu).toEqual({ count: 1, sockets: 1, cores: 1, threads: 1, model: 'max' });
    expect(v.spec.memory).toBe(128 * 1024 * 1024);
    expect(v.actions).toEqual(['start', 'remove']);
    expect((await d.client.listVms()).map((x) => x.name)).toEqual([name]);
  });

  it('starts it and sees the readiness line on the serial console', async () => {
    name = await lifeVm('life-start', 'created');
    const v = await d.client.action(name, 'start');
    expect(v.state).toBe('running');
    expect(v.runtime?.accel).toBe('tcg');
    expect(processesUnder(d.stateDir)).toContain(v.runtime!.pid);
    await waitForLine(d.client, name, READY);
  });

  it('pauses and resumes', async () => {
    name = await lifeVm('life-pause', 'running');
    expect((await d.client.action(name, 'pause')).state).toBe('paused');
    const paused = await d.client.getVm(name);
    expect(paused.actions).toContain('resume');
    expect(paused.actions).not.toContain('pause');
    expect((await d.client.action(name, 'resume')).state).toBe('running');
  });

  it('reboots: the guest comes up a second time', async () => {
    name = await lifeVm('life-reboot', 'ready');
    const before = countLines(await d.client.serialLog(name, 1 << 20), READY);
    expect((await d.client.action(name, 'reboot')).state).toBe('running');
    await waitForLine(d.client, name, READY, { count: before + 1 });
  });

  it('suspends to disk (process gone) and resumes where it was', async () => {
    name = await lifeVm('life-suspend', 'ready');
    const running = await d.client.getVm(name);
    const oldPid = running.runtime!.pid;
    const s = await d.client.action(name, 'suspend');
    expect(s.state).toBe('suspended');
    expect(s.runtime).toBeNull();
    expect(processesUnder(d.stateDir)).not.toContain(oldPid);
    const readyBefore = countLines(await d.client.serialLog(name, 1 << 20), READY);
    const r = await d.client.action(name, 'resume');
    expect(r.state).toBe('running');
    expect(r.runtime!.pid).not.toBe(oldPid);
    // Restored, not rebooted: no new readiness line, and the shell still answers.
    const ws = d.client.openConsole(name);
    let out = '';
    ws.on('message', (b: Buffer) => (out += b.toString()));
    await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
    ws.send('echo restored-$((20+22))\n');
    const deadline = Date.now() + limit('shell');
    while (!out.includes('restored-42') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    ws.close();
    expect(out).toContain('restored-42');
    expect(countLines(await d.client.serialLog(name, 1 << 20), READY)).toBe(readyBefore);
  });

  it('stops gracefully: the guest powers itself off', async () => {
    name = await lifeVm('life-stop', 'ready');
    const v = await d.client.action(name, 'stop', { timeoutSeconds: limitSeconds('state', 2) });
    expect(v.state).toBe('stopped');
    expect(v.stateReason).toBe('guest powered off');
    expect(v.runtime).toBeNull();
    expect(await d.client.serialLog(name, 1 << 20)).toContain('POLYVISOR-GUEST-POWEROFF');
  });

  it('removes it with its directory', async () => {
    name = await lifeVm('life-rm', 'stopped');
    const v = await d.client.getVm(name);
    expect(existsSync(v.files.dir)).toBe(true);
    await d.client.removeVm(name);
    expect(existsSync(v.files.dir)).toBe(false);
    expect(await d.client.listVms()).toEqual([]);
    expect(processesUnder(d.stateDir)).toEqual([]);
  });
});
