/**
 * Resource history against a real daemon and a real guest: points appear
 * while a VM runs (sampled every 2 s here, POLYVISOR_HISTORY_INTERVAL), the
 * answer matches the OpenAPI document, a SIGKILLed daemon's successor still
 * serves the earlier points, a stopped VM gets no new points (a gap), and
 * the routes are authorized (a viewer reads, no token gets 401).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HistoryClient, PlatformClient } from '../src/client/index.js';
import type { HostHistoryView, VmHistoryPoint, VmHistoryView } from '../src/spec/index.js';
import { killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { daemonAlive, removeAllVms } from './helpers/isolate.js';
import { scaled } from './helpers/limits.js';
import { rawCall, ResponseChecker, type OpenApiDoc } from './helpers/openapi-check.js';
import { guestSpec, READY, waitForLine, waitForState } from './helpers/vm.js';

const env = { POLYVISOR_HISTORY_INTERVAL: '2' };
let d: TestDaemon;
let stateDir: string;
let viewer: string;
const history = (): HistoryClient => new HistoryClient({ endpoint: { socketPath: d.socket } });

beforeAll(async () => {
  d = await startDaemon({ env });
  stateDir = d.stateDir;
  viewer = (await new PlatformClient({ endpoint: { socketPath: d.socket } }).createToken('hist-viewer', 'viewer')).token;
}, 120_000);
afterAll(async () => {
  if (daemonAlive(d)) await removeAllVms(d);
  await d?.stop();
  killQemusUnder(stateDir);
});

/** Polls until `ok` holds for the answer, or fails naming the last answer. */
async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = scaled(90_000)): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what} not seen in ${ms} ms; last answer: ${JSON.stringify(v).slice(0, 1500)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const withRates = (p: VmHistoryPoint): boolean => p.cpuPercent !== null && p.diskReadBps !== null;

it('a running VM gets 10 s points with its CPU, host memory, guest memory size and use, and disk rates; the host gets its own', async () => {
  await d.client.createVm(guestSpec('hist-a', { disks: [{ name: 'data', size: '16Mi' }] }));
  await d.client.action('hist-a', 'start');
  await waitForLine(d.client, 'hist-a', READY);
  const h = await until('two VM points with rates', () => history().vm('hist-a'), (v) => v.points.filter(withRates).length >= 2);
  expect(h.range).toBe('1h');
  expect(h.stepSeconds).toBe(10);
  const ts = h.points.map((p) => p.t);
  expect(ts).toEqual([...ts].sort((a, b) => a - b));
  expect(new Set(ts).size).toBe(ts.length);
  expect(ts.every((t) => t % 10_000 === 0)).toBe(true);
  const p = h.points.filter(withRates).at(-1)!;
  expect(p.cpuPercent).toBeGreaterThanOrEqual(0);
  expect(p.memHostBytes).toBeGreaterThan(16 * 2 ** 20);
  expect(p.memGuestTotalBytes).toBe(128 * 2 ** 20);
  // The guest's own figure, from its virtio-balloon statistics (the test guest loads virtio_balloon).
  const g = await until('a point with the memory the guest uses', () => history().vm('hist-a'), (v) => v.points.some((x) => x.memGuestUsedBytes !== null));
  const used = g.points.filter((x) => x.memGuestUsedBytes !== null).at(-1)!.memGuestUsedBytes!;
  expect(used).toBeGreaterThan(4 * 2 ** 20); // a kernel, busybox, httpd and qemu-ga
  expect(used).toBeLessThan(128 * 2 ** 20);
  expect(p.diskWriteBps).toBeGreaterThanOrEqual(0);
  const host = await until('a host point with CPU', () => history().host(), (v) => v.points.some((x) => x.cpuPercent !== null));
  const hp = host.points.at(-1)!;
  expect(hp.memTotalBytes).toBeGreaterThan(hp.memUsedBytes!);
  expect(hp.load1).toBeGreaterThanOrEqual(0);

  // The same answers over TCP match the OpenAPI document the daemon serves.
  const docText = (await rawCall(d.url, 'GET', '/v1/openapi.json')).body;
  const checker = new ResponseChecker(JSON.parse(docText) as OpenApiDoc);
  for (const [route, url] of [['/v1/vms/:name/history', '/v1/vms/hist-a/history?range=1h'], ['/v1/vms/:name/history', '/v1/vms/hist-a/history?range=1d'], ['/v1/host/history', '/v1/host/history?range=6h']] as const) {
    const a = await rawCall(d.url, 'GET', url, { token: viewer });
    expect(a.status, `${url}: ${a.body.slice(0, 300)}`).toBe(200);
    expect(checker.problems({ method: 'GET', route, ...a })).toEqual([]);
  }
}, 300_000);

it('history is authorized: a viewer reads it, no token is refused, a bad range is a clear error', async () => {
  expect((await rawCall(d.url, 'GET', '/v1/vms/hist-a/history')).status).toBe(401);
  expect((await rawCall(d.url, 'GET', '/v1/host/history')).status).toBe(401);
  expect((await rawCall(d.url, 'GET', '/v1/host/history', { token: viewer })).status).toBe(200);
  const bad = await rawCall(d.url, 'GET', '/v1/vms/hist-a/history?range=2w', { token: viewer });
  expect(bad.status).toBe(400);
  expect(JSON.parse(bad.body)).toMatchObject({ code: 'INVALID_ARGUMENT', details: [expect.objectContaining({ field: 'range' })] });
  const missing = await rawCall(d.url, 'GET', '/v1/vms/nope/history', { token: viewer });
  expect(missing.status).toBe(404);
  expect(JSON.parse(missing.body)).toMatchObject({ code: 'VM_NOT_FOUND' });
});

it('a daemon killed by SIGKILL comes back with the earlier points; the VM gets new ones after; a stopped VM gets none (a gap)', async () => {
  const before = await until('VM points', () => history().vm('hist-a'), (v) => v.points.filter(withRates).length >= 2);
  await d.kill9();
  d = await startDaemon({ stateDir, env });
  const after: VmHistoryView = await history().vm('hist-a');
  const kept = new Set(after.points.map((p) => p.t));
  // Every point written before the kill is served again (the last one may have been rewritten by a later sample of its step).
  expect(before.points.slice(0, -1).filter((p) => !kept.has(p.t))).toEqual([]);
  expect(after.points.find((p) => p.t === before.points[0]!.t)).toEqual(before.points[0]);
  const lastBefore = before.points.at(-1)!.t;
  await until('a point after the restart', () => history().vm('hist-a'), (v) => v.points.some((p) => p.t > lastBefore && withRates(p)));

  await d.client.action('hist-a', 'stop', { force: true });
  await waitForState(d.client, 'hist-a', 'stopped');
  const stoppedAt = Date.now();
  // Wait until the host has a point two steps past the stop: the sampler has run since, and the VM must have nothing there.
  await until('host points past the stop', () => history().host(), (v: HostHistoryView) => v.points.some((p) => p.t >= stoppedAt + 10_000));
  const gap = await history().vm('hist-a');
  expect(gap.points.filter((p) => p.t >= stoppedAt + 10_000)).toEqual([]);
  expect(gap.points.length).toBeGreaterThan(2);
}, 300_000);
