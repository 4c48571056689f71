/**
 * Write forwarding in process: two API apps, "h1" (the owner, on a real TCP
 * port) and "h2", over ONE SQLite store standing in for the cluster's shared
 * etcd (records, tokens and audit shared as they are there), the stub driver
 * (records without QEMU processes). h2 forwards with the daemon's real
 * transport (daemon/cluster-forward-wiring.ts); where the owner lives is
 * given directly instead of read from etcd's host records, and the hosts'
 * states and capacities (what `vm create --host` places by) are made up here.
 * The etcd-backed run with real QEMU is test/cluster-forward.test.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stubDriver } from '../drivers/stub-driver.js';
import { VmService } from '../lifecycle/index.js';
import { placeNewVm, DEFAULT_POLICY, type HostsService } from '../cluster/index.js';
import { silentLogger } from '../shared/index.js';
import { validateSpec, type HostView, type HostStateName } from '../spec/index.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/index.js';
import { sendForwarded } from '../daemon/cluster-forward-wiring.js';
import { buildApi } from './app.js';
import { createApiPlatform, type ApiPlatform } from './platform.js';
import { FORWARDED_BY_HEADER, ON_BEHALF_OF_HEADER, type OwnerAddress, type OwnerForwarder } from './owner-forward.js';

const PEER_NAME = 'cluster-peer';
let dir: string;
let store: SqliteStore;
let ownerUrl: string;
const closers: Array<() => Promise<void>> = [];
const tok: Record<string, string> = {};
let located: OwnerAddress | undefined;
let enabled = true;
let h1Platform: ApiPlatform;
/** The hosts' states as the scheduler sees them (vm create --host). */
const hostStates: Record<string, HostStateName> = { h1: 'ready', h2: 'ready' };
const GiB = 1024 ** 3;

/** Only place() is used by these tests; the hosts are made up (8 CPUs, 8 GiB each), the VMs are the shared store's. */
function madeUpHosts(self: string): HostsService {
  const view = (name: string): HostView => ({
    name, state: hostStates[name]!, capacity: { cpus: 8, memoryBytes: 8 * GiB, diskBytes: 100 * GiB }, allocated: { cpus: 0, memoryBytes: 0, diskBytes: 0 },
    vms: 0, pool: '', version: 't', since: '2026-12-05T00:00:00Z', leaseAgeSeconds: 1, self: name === self,
  });
  const unused = async (): Promise<never> => { throw new Error('unused in this test'); };
  return {
    list: unused, setCordoned: unused, drain: unused, drainStatus: unused, explain: unused,
    place: async (spec, want) => placeNewVm({ spec, want, hosts: ['h1', 'h2'].map(view), vms: await store.listVms(), policy: DEFAULT_POLICY }),
  };
}

type App = Awaited<ReturnType<typeof buildApi>>['app'];
let h2tcp: App;
let h2unix: App;
let h1tcp: App;

async function hostApp(host: string, listener: 'tcp' | 'unix', forwarder?: OwnerForwarder): Promise<{ app: App; platform: ApiPlatform }> {
  const service = new VmService({ store, driver: stubDriver, host, vmsDir: path.join(dir, host), logger: silentLogger });
  const platform = createApiPlatform({ service, store, logger: silentLogger, rateLimitPerSecond: 0, authFailuresPerMinute: 0 });
  const api = await buildApi({
    service, platform, listener, logger: silentLogger, version: 't', host, hosts: madeUpHosts(host),
    forwarding: { forwarder: forwarder ?? { enabled: false, locate: async () => undefined, send: async () => { throw new Error('unused'); } }, identity: { peerTokenName: PEER_NAME, tokenByName: (n) => platform.tokens.byName(n) } },
  });
  closers.push(async () => { await api.close(); await platform.close(); });
  return { app: api.app, platform };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-forward-'));
  store = openSqliteStore(path.join(dir, 'state.db'));
  const h1 = await hostApp('h1', 'tcp');
  h1tcp = h1.app;
  h1Platform = h1.platform;
  await h1tcp.listen({ host: '127.0.0.1', port: 0 });
  ownerUrl = `http://127.0.0.1:${(h1tcp.server.address() as AddressInfo).port}`;
  const forwarder: OwnerForwarder = {
    get enabled() { return enabled; },
    locate: async (host) => (host === 'h1' ? located : undefined),
    send: (to, req) => sendForwarded(to, req, tok['peer']!, 10_000),
  };
  h2tcp = (await hostApp('h2', 'tcp', forwarder)).app;
  h2unix = (await hostApp('h2', 'unix', forwarder)).app;
  for (const [name, role] of [['op', 'operator'], ['viewer', 'viewer'], ['admin', 'admin'], [PEER_NAME, 'peer'], ['other-peer', 'peer']] as const) {
    tok[name === PEER_NAME ? 'peer' : name] = (await h1Platform.tokens.create(name, role)).token;
  }
  const owner = new VmService({ store, driver: stubDriver, host: 'h1', vmsDir: path.join(dir, 'h1'), logger: silentLogger });
  await owner.create(validateSpec({ name: 'a1', disks: [{ name: 'root', size: '1Gi' }] }));
  await owner.create(validateSpec({ name: 'a2', disks: [{ name: 'root', size: '1Gi' }] }));
  expect((await owner.find('a1'))!.host).toBe('h1');
});

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const errOf = (r: { json(): unknown }) => r.json() as { code: string; message: string; hint?: string };

describe('write forwarding: a write sent to a host that does not own the VM runs on its owner', () => {
  it('an operator\'s edit sent to h2 runs on h1 and the owner\'s answer comes back; both audit logs name the operator', async () => {
    located = { host: 'h1', url: ownerUrl };
    const r = await h2tcp.inject({ method: 'PUT', url: '/v1/vms/a1', headers: bearer(tok['op']!), payload: { spec: { name: 'a1', memory: '384Mi', disks: [{ name: 'root', size: '1Gi' }] } } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ name: 'a1', host: 'h1' });
    expect(r.headers['x-polyvisor-handled-by']).toBe('h1');
    expect((await store.getVm('a1'))!.spec.memory).toBe(384 * 1024 ** 2);
    const audit = (await store.listAudit({ resource: 'a1' })).filter((e) => e.action === 'PUT /v1/vms/:name');
    expect(audit).toHaveLength(2);
    expect(audit.map((e) => [e.actor, e.status, e.detail['forwardedTo'] ?? null, e.detail['forwardedBy'] ?? null])).toEqual(expect.arrayContaining([
      ['op', 200, 'h1', null], // h2: who asked, and where it went
      ['op', 200, null, 'h2'], // h1: who asked, and who forwarded it
    ]));
  });

  it('the owner\'s refusals come back unchanged (its stub driver cannot start; a created VM cannot stop)', async () => {
    const start = await h2tcp.inject({ method: 'POST', url: '/v1/vms/a1/start', headers: bearer(tok['op']!), payload: {} });
    expect(start.statusCode, start.body).toBe(503);
    expect(errOf(start)).toMatchObject({ code: 'QEMU_MISSING', message: 'stub driver' });
    const stop = await h2tcp.inject({ method: 'POST', url: '/v1/vms/a1/stop', headers: bearer(tok['op']!), payload: {} });
    expect(stop.statusCode).toBe(409);
    expect(errOf(stop).code).toBe('INVALID_TRANSITION');
    expect(stop.headers['x-polyvisor-handled-by']).toBe('h1');
  });

  it('the forwarding host checks the caller first: a viewer is refused on h2 and nothing is forwarded', async () => {
    const before = (await store.listAudit({ resource: 'a1' })).length;
    const r = await h2tcp.inject({ method: 'POST', url: '/v1/vms/a1/start', headers: bearer(tok['viewer']!), payload: {} });
    expect(r.statusCode).toBe(403);
    expect(r.headers['x-polyvisor-handled-by']).toBeUndefined();
    const after = await store.listAudit({ resource: 'a1' });
    expect(after.length - before).toBe(1); // h2's refusal alone: h1 never heard of it
    expect(after[0]).toMatchObject({ actor: 'viewer', outcome: 'denied' });
  });

  it('the unix socket\'s admin is forwarded as local@h2 (an admin there): a remove on h2 removes h1\'s VM', async () => {
    const r = await h2unix.inject({ method: 'DELETE', url: '/v1/vms/a2' });
    expect(r.statusCode, r.body).toBeLessThan(300);
    expect(await store.getVm('a2')).toBeUndefined();
    const e = (await store.listAudit({ actor: 'local@h2' }))[0];
    expect(e).toMatchObject({ action: 'DELETE /v1/vms/:name', resource: 'a2', detail: { forwardedBy: 'h2', role: 'admin' } });
  });

  it('no second hop: a request already forwarded once is refused with VM_ON_OTHER_HOST', async () => {
    const r = await h2tcp.inject({ method: 'POST', url: '/v1/vms/a1/start', headers: { ...bearer(tok['op']!), [FORWARDED_BY_HEADER]: 'h3' }, payload: {} });
    expect(r.statusCode).toBe(409);
    expect(errOf(r).code).toBe('VM_ON_OTHER_HOST');
    expect(errOf(r).message).toMatch(/already forwarded once \(by h3\): a second hop is refused/);
  });

  it('forwarding off: VM_ON_OTHER_HOST naming the owner, as before', async () => {
    enabled = false;
    try {
      const r = await h2tcp.inject({ method: 'POST', url: '/v1/vms/a1/start', headers: bearer(tok['op']!), payload: {} });
      expect(r.statusCode).toBe(409);
      expect(errOf(r)).toMatchObject({ code: 'VM_ON_OTHER_HOST', message: expect.stringMatching(/runs on host h1, not on h2.*forwardWrites: false/) });
    } finally {
      enabled = true;
    }
  });

  it('an owner that is not live, or does not answer, is HOST_UNREACHABLE naming it and its address', async () => {
    located = undefined;
    const gone = await h2tcp.inject({ method: 'POST', url: '/v1/vms/a1/start', headers: bearer(tok['op']!), payload: {} });
    expect(gone.statusCode).toBe(503);
    expect(errOf(gone)).toMatchObject({ code: 'HOST_UNREACHABLE', message: expect.stringMatching(/runs on host h1, which is not live/) });
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    located = { host: 'h1', url: `http://127.0.0.1:${port}` };
    const refused = await h2tcp.inject({ method: 'POST', url: '/v1/vms/a1/start', headers: bearer(tok['op']!), payload: {} });
    expect(refused.statusCode).toBe(503);
    expect(errOf(refused)).toMatchObject({ code: 'HOST_UNREACHABLE', message: expect.stringContaining(`host h1 at http://127.0.0.1:${port}`) });
  });

  it('the caller\'s own token never leaves h2: the owner sees the peer credential and the caller\'s name', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const fake = http.createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"a1","state":"running","host":"h1"}');
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    try {
      located = { host: 'h1', url: `http://127.0.0.1:${(fake.address() as AddressInfo).port}` };
      const r = await h2tcp.inject({ method: 'POST', url: '/v1/vms/a1/start', headers: bearer(tok['op']!), payload: {} });
      expect(r.statusCode).toBe(200);
      expect(seen).toHaveLength(1);
      expect(seen[0]!['authorization']).toBe(`Bearer ${tok['peer']}`);
      expect(seen[0]![ON_BEHALF_OF_HEADER]).toBe('token:op');
      expect(seen[0]![FORWARDED_BY_HEADER]).toBe('h2');
      expect(JSON.stringify(seen[0])).not.toContain(tok['op']!);
    } finally {
      await new Promise((r) => fake.close(r));
      located = { host: 'h1', url: ownerUrl };
    }
  });
});

describe('the owner trusts a forwarded caller only as far as the shared token store says', () => {
  const forwarded = (token: string, claim: string) =>
    h1tcp.inject({ method: 'DELETE', url: '/v1/vms/a1', headers: { ...bearer(token), [ON_BEHALF_OF_HEADER]: claim, [FORWARDED_BY_HEADER]: 'h2' } });

  it('the role is the named token\'s, read from the store: a viewer named by the peer credential may not remove', async () => {
    const r = await forwarded(tok['peer']!, 'token:viewer');
    expect(r.statusCode).toBe(403);
    expect(errOf(r).message).toMatch(/role viewer \(token viewer, forwarded by h2\)/);
  });

  it('only the cluster\'s peer credential may speak for others; an unknown or self-named caller is refused', async () => {
    for (const [token, claim, status, pattern] of [
      [tok['other-peer']!, 'token:admin', 403, /only the cluster's peer credential/],
      [tok['op']!, 'token:admin', 403, /only the cluster's peer credential/],
      [tok['peer']!, 'token:ghost', 401, /token ghost, which does not exist/],
      [tok['peer']!, 'token:cluster-peer', 403, /on its own behalf/],
      [tok['peer']!, 'root', 403, /must be "local" or "token:NAME"/],
    ] as const) {
      const r = await forwarded(token, claim);
      expect(r.statusCode, `${claim}: ${r.body}`).toBe(status);
      expect(errOf(r).message).toMatch(pattern);
    }
    expect(await store.getVm('a1')).toBeDefined();
  });

  it('forwarded identities are for VM routes only: the peer credential cannot make tokens as "local"', async () => {
    const r = await h1tcp.inject({ method: 'POST', url: '/v1/tokens', headers: { ...bearer(tok['peer']!), [ON_BEHALF_OF_HEADER]: 'local', [FORWARDED_BY_HEADER]: 'h2' }, payload: { name: 'minted', role: 'admin' } });
    expect(r.statusCode).toBe(403);
    expect(errOf(r).message).toMatch(/only requests to a VM/);
    expect(await h1Platform.tokens.byName('minted')).toBeUndefined();
  });
});

describe('vm create --host: the scheduler places a new VM and the create goes to the chosen host', () => {
  const disk = { disks: [{ name: 'root', size: '1Gi' }] };
  const create = (app: App, body: Record<string, unknown>, token = tok['op']!) => app.inject({ method: 'POST', url: '/v1/vms', headers: bearer(token), payload: body });

  it('auto on h2 while h2 is cordoned: the VM is created by h1, whose answer names it', async () => {
    located = { host: 'h1', url: ownerUrl };
    hostStates['h2'] = 'cordoned';
    try {
      const r = await create(h2tcp, { spec: { name: 'c1', disks: [{ name: 'root', size: '1Gi' }] }, host: 'auto' });
      expect(r.statusCode, r.body).toBe(201);
      expect(r.json()).toMatchObject({ name: 'c1', host: 'h1' });
      expect(r.headers['x-polyvisor-handled-by']).toBe('h1');
      expect((await store.getVm('c1'))!.host).toBe('h1');
      const audit = (await store.listAudit({ actor: 'op' })).filter((e) => e.action === 'POST /v1/vms').map((e) => [e.detail['forwardedTo'] ?? null, e.detail['forwardedBy'] ?? null]);
      expect(audit).toEqual(expect.arrayContaining([['h1', null], [null, 'h2']]));
    } finally {
      hostStates['h2'] = 'ready';
    }
  });

  it('auto with h1 cordoned is created on h2 itself; a named host is used as named', async () => {
    hostStates['h1'] = 'cordoned';
    try {
      const r = await create(h2tcp, { spec: { name: 'c2', ...disk }, host: 'auto' });
      expect(r.statusCode, r.body).toBe(201);
      expect(r.json()).toMatchObject({ name: 'c2', host: 'h2' });
      expect(r.headers['x-polyvisor-handled-by']).toBe('h2');
    } finally {
      hostStates['h1'] = 'ready';
    }
    const named = await create(h2tcp, { spec: { name: 'c3', ...disk }, host: 'h1' });
    expect(named.statusCode, named.body).toBe(201);
    expect(named.json()).toMatchObject({ name: 'c3', host: 'h1' });
    // A host lists the VMs it owns; ?hosts=all lists every host's.
    const names = async (url: string) => ((await h2tcp.inject({ method: 'GET', url, headers: bearer(tok['viewer']!) })).json() as Array<{ name: string; host: string }>).map((v) => `${v.name}@${v.host}`);
    expect(await names('/v1/vms')).toEqual(['c2@h2']);
    expect(await names('/v1/vms?hosts=all')).toEqual(expect.arrayContaining(['a1@h1', 'c2@h2', 'c3@h1']));
  });

  it('a VM that fits nowhere is refused with every host and why (schedule explain\'s words); nothing is created', async () => {
    hostStates['h2'] = 'cordoned';
    try {
      const r = await create(h2tcp, { spec: { name: 'huge', memory: '16Gi', ...disk }, host: 'auto' });
      expect(r.statusCode).toBe(409);
      expect(errOf(r)).toMatchObject({
        code: 'NO_HOST_FITS',
        message: 'no host fits VM huge: h1 refused by memory: needs 16 GiB memory, 8 GiB free of 8 GiB (8 GiB × overcommit 1); h2 refused by state: host is cordoned; only ready hosts take new VMs',
      });
      const named = await create(h2tcp, { spec: { name: 'c4', ...disk }, host: 'h2' });
      expect(named.statusCode).toBe(409);
      expect(errOf(named).message).toBe('host h2 cannot take VM c4: refused by state: host is cordoned; only ready hosts take new VMs (the scheduler would choose h1)');
      const unknown = await create(h2tcp, { spec: { name: 'c4', ...disk }, host: 'h9' });
      expect(unknown.statusCode).toBe(404);
      expect(errOf(unknown)).toMatchObject({ code: 'HOST_NOT_FOUND', message: expect.stringMatching(/no host named h9 .*hosts: h1, h2/) });
    } finally {
      hostStates['h2'] = 'ready';
    }
    expect(await store.getVm('huge')).toBeUndefined();
    expect(await store.getVm('c4')).toBeUndefined();
  });

  it('a viewer may not create (refused on h2, nothing forwarded); a name in use is VM_EXISTS before any placement', async () => {
    const v = await create(h2tcp, { spec: { name: 'c5', ...disk }, host: 'auto' }, tok['viewer']!);
    expect(v.statusCode).toBe(403);
    const dup = await create(h2tcp, { spec: { name: 'c1', ...disk }, host: 'auto' });
    expect(dup.statusCode).toBe(409);
    expect(errOf(dup)).toMatchObject({ code: 'VM_EXISTS', message: expect.stringContaining('on host h1') });
  });

  it('one hop: a create forwarded to h1 for another host is refused; one for h1 runs there as the caller', async () => {
    const fwd = (host: string, name: string) => h1tcp.inject({ method: 'POST', url: '/v1/vms', headers: { ...bearer(tok['peer']!), [ON_BEHALF_OF_HEADER]: 'token:op', [FORWARDED_BY_HEADER]: 'h2' }, payload: { spec: { name, ...disk }, host } });
    const other = await fwd('h2', 'c6');
    expect(other.statusCode).toBe(409);
    expect(errOf(other)).toMatchObject({ code: 'VM_ON_OTHER_HOST', message: expect.stringMatching(/a second hop is refused/) });
    const auto = await fwd('auto', 'c6');
    expect(auto.statusCode).toBe(409);
    const here = await fwd('h1', 'c6');
    expect(here.statusCode, here.body).toBe(201);
    expect((await store.getVm('c6'))!.host).toBe('h1');
  });
});
