/** Ten VMs started at once, all reach their readiness line, all stop. */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { killQemusUnder, processesUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit } from './helpers/limits.js';
import { limitSeconds } from './helpers/waits.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';

let d: TestDaemon;
beforeAll(async () => {
  d = await startDaemon();
});
afterEach(() => removeAllVms(d));
afterAll(async () => {
  await d?.stop();
  killQemusUnder(d.stateDir);
});

const names = Array.from({ length: 10 }, (_, i) => `many-${i}`);

it('starts ten VMs at once and each boots', async () => {
  await Promise.all(names.map((n) => d.client.createVm(guestSpec(n, { memory: '96Mi', labels: { group: 'ten' } }))));
  const started = await Promise.all(names.map((n) => d.client.action(n, 'start')));
  expect(started.map((v) => v.state)).toEqual(names.map(() => 'running'));
  const pids = new Set(started.map((v) => v.runtime!.pid));
  expect(pids.size).toBe(10);
  expect(processesUnder(d.stateDir).sort()).toEqual([...pids].sort());
  await Promise.all(names.map((n) => waitForLine(d.client, n, READY, { timeoutMs: limit('boot', 3) })));
  const listed = await d.client.listVms({ labels: { group: 'ten' } });
  expect(listed.map((v) => [v.name, v.state])).toEqual(names.map((n) => [n, 'running']));
});

it('stops all ten at once', async () => {
  // set-up: ten booted guests of its own (a graceful stop needs each guest up)
  await Promise.all(names.map((n) => d.client.createVm(guestSpec(n, { memory: '96Mi', labels: { group: 'ten' } }))));
  await Promise.all(names.map((n) => d.client.action(n, 'start')));
  await Promise.all(names.map((n) => waitForLine(d.client, n, READY, { timeoutMs: limit('boot', 3) })));
  const stopped = await Promise.all(names.map((n) => d.client.action(n, 'stop', { timeoutSeconds: limitSeconds('state', 3) })));
  expect(stopped.map((v) => v.state)).toEqual(names.map(() => 'stopped'));
  expect(processesUnder(d.stateDir)).toEqual([]);
});
