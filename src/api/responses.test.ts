/**
 * Proves the response schemas true: every route of a daemon with every
 * service wired (real SQLite, pools, library, snapshots and backups through
 * qemu-img; the stub driver, so no guest runs) is called on its happy path
 * over real TCP, and each answer (status, media type, JSON body or stream
 * items) is checked against the OpenAPI document the daemon serves. The
 * answers only a running guest gives are proven by test/api-contract.test.ts
 * (GUEST_ANSWERS); anything else left unchecked fails here.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFullStubStack, type FullStubStack } from '../../test/helpers/full-stub-stack.js';
import { GUEST_ANSWERS, rawCall, ResponseChecker, upgradeStatus, type OpenApiDoc } from '../../test/helpers/openapi-check.js';
import { responseDocs } from './openapi.js';

let stack: FullStubStack;
let base: string;
let token: string;
let checker: ResponseChecker;
const problems: string[] = [];

beforeAll(async () => {
  stack = await openFullStubStack('responses');
  await stack.api.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(stack.api.app.server.address() as net.AddressInfo).port}`;
  token = (await stack.platform.tokens.create('contract', 'admin')).token;
  checker = new ResponseChecker((await rawCall(base, 'GET', '/v1/openapi.json')).body ? JSON.parse((await rawCall(base, 'GET', '/v1/openapi.json')).body) as OpenApiDoc : ({} as OpenApiDoc));
}, 60_000);
afterAll(() => stack?.close());

/** Calls `route` with its parameters filled in, checks the answer against the document, and returns it. */
async function call(method: string, route: string, params: Record<string, string> = {}, o: { body?: unknown; query?: string; want?: number; sseEvents?: number } = {}) {
  const url = route.replace(/:([A-Za-z0-9_]+)/g, (_m, p: string) => encodeURIComponent(params[p] ?? `missing-${p}`)) + (o.query ? `?${o.query}` : '');
  const a = await rawCall(base, method, url, { token, ...(o.body !== undefined ? { body: o.body } : {}), ...(o.sseEvents ? { sseEvents: o.sseEvents } : {}) });
  expect(a.status, `${method} ${url}: ${a.body.slice(0, 400)}`).toBe(o.want ?? (a.status < 300 ? a.status : 200));
  problems.push(...checker.problems({ method, route, ...a }));
  return { ...a, json: () => JSON.parse(a.body) as Record<string, unknown> };
}

async function upgrade(route: string, params: Record<string, string> = {}, query = '') {
  const url = route.replace(/:([A-Za-z0-9_]+)/g, (_m, p: string) => params[p] ?? p) + query;
  const status = await upgradeStatus(base, url, token);
  expect(status, `upgrade ${url}`).toBe(101);
  problems.push(...checker.problems({ method: 'GET', route, status, contentType: '', body: '' }));
}

describe('every route on its happy path, checked against the OpenAPI document', () => {
  it('system, tokens, secrets, audit', async () => {
    await call('GET', '/v1/health');
    await call('GET', '/v1/openapi.json');
    await call('GET', '/v1/spec/schema');
    await call('GET', '/v1/whoami');
    await call('GET', '/v1/stats');
    await call('GET', '/v1/host/history', {}, { query: 'range=1h' });
    expect((await call('GET', '/v1/host/inventory')).json()).toMatchObject({ host: 'h', iommu: true, gpus: expect.arrayContaining([expect.objectContaining({ model: 'TU104GL [Tesla T4]' })]) });
    await call('GET', '/metrics');
    await call('GET', '/v1/doctor');
    await call('POST', '/v1/tokens', {}, { body: { name: 'viewer-1', role: 'viewer' }, want: 201 });
    await call('GET', '/v1/tokens');
    await call('DELETE', '/v1/tokens/:name', { name: 'viewer-1' }, { want: 204 });
    await call('PUT', '/v1/secrets/:name', { name: 'db' }, { body: { value: 'one' }, want: 201 });
    await call('PUT', '/v1/secrets/:name', { name: 'db' }, { body: { value: 'two' }, want: 200 });
    await call('GET', '/v1/secrets');
    await call('POST', '/v1/secrets/rotate-key');
    await call('DELETE', '/v1/secrets/:name', { name: 'db' }, { want: 204 });
    await call('POST', '/v1/peers', {}, { body: { name: 'b', url: 'http://127.0.0.1:8006', token: 'pvt_peer-token-x' }, want: 201 });
    await call('GET', '/v1/peers');
    await call('DELETE', '/v1/peers/:name', { name: 'b' }, { want: 204 });
    await call('GET', '/v1/audit', {}, { query: 'limit=50' });
  }, 120_000);

  it('hosts (a cluster directory on an in-memory key-value store)', async () => {
    const hosts = (await call('GET', '/v1/hosts')).json() as unknown as Array<{ name: string; state: string }>;
    expect(hosts.map((h) => [h.name, h.state])).toEqual([['h', 'ready'], ['h2', 'down']]);
    await call('POST', '/v1/hosts/:name/cordon', { name: 'h' }, { want: 204 });
    expect(((await call('GET', '/v1/hosts')).json() as unknown as Array<{ state: string }>)[0]!.state).toBe('cordoned');
    expect((await call('POST', '/v1/hosts/:name/drain', { name: 'h' }, { want: 202 })).json()).toMatchObject({ host: 'h', state: 'draining' });
    expect((await call('GET', '/v1/hosts/:name/drain', { name: 'h' })).json()).toMatchObject({ host: 'h', state: 'draining' });
    await call('POST', '/v1/hosts/:name/uncordon', { name: 'h' }, { want: 204 });
    await call('POST', '/v1/vms', {}, { body: { spec: { name: 'sched1', memory: '64Mi', disks: [{ name: 'root', size: '1Mi' }] } }, want: 201 });
    expect((await call('GET', '/v1/schedule/explain', {}, { query: 'vm=sched1' })).json()).toMatchObject({ vm: 'sched1', chosen: 'h', hosts: [{ host: 'h', chosen: true }, { host: 'h2', refusedBy: { filter: 'state' } }] });
    expect((await call('POST', '/v1/schedule/explain', {}, { body: { spec: { name: 'sched2', memory: '64Mi', disks: [{ name: 'root', size: '1Mi' }] } } })).json()).toMatchObject({ vm: 'sched2', chosen: 'h' });
    await call('DELETE', '/v1/vms/:name', { name: 'sched1' }, { want: 204 });
  });

  it('rebalance: the plan (dry run) and the operation of a run', async () => {
    expect((await call('POST', '/v1/cluster/rebalance', {}, { body: { dryRun: true, threshold: 0.5 } })).json()).toMatchObject({ state: 'balanced', dryRun: true, threshold: 0.5, moves: [] });
    expect((await call('POST', '/v1/cluster/rebalance', {}, { body: {}, want: 202 })).json()).toMatchObject({ kind: 'cluster.rebalance' });
  });

  it('cluster membership (the real rules on an in-memory key-value store; etcd and other daemons answered by stubs)', async () => {
    expect((await call('GET', '/v1/cluster')).json()).toMatchObject({ clustered: true, host: 'h' });
    const t = (await call('POST', '/v1/cluster/tokens', {}, { body: { ttlSeconds: 60 }, want: 201 })).json() as { token: string };
    expect((await call('POST', '/v1/cluster/members', {}, { body: { token: t.token, host: 'h3' } })).json()).toMatchObject({ peerToken: 'pvt_stub-peer-token' });
    expect((await call('POST', '/v1/cluster/leave', {}, { body: {} })).json()).toMatchObject({ left: true });
    expect((await call('POST', '/v1/cluster/init', {}, { body: { endpoints: ['http://127.0.0.1:2379'] } })).json()).toMatchObject({ restartRequired: true });
    expect((await call('POST', '/v1/cluster/join', {}, { body: { address: 'http://127.0.0.1:8006', token: t.token } })).json()).toMatchObject({ restartRequired: true });
  });

  it('virtual networks (on the in-memory host plumbing)', async () => {
    await call('POST', '/v1/networks', {}, { body: { name: 'lab', mode: 'nat', subnet: '10.91.0.0/24' }, want: 201 });
    await call('GET', '/v1/networks');
    await call('GET', '/v1/networks/:name', { name: 'lab' });
    await call('GET', '/v1/networks/:name/leases', { name: 'lab' });
    // NICs of a stopped VM (the spec alone changes; hot-plug needs a running guest: test/network-nics.test.ts).
    await call('POST', '/v1/vms', {}, { body: { spec: { name: 'nicvm', memory: '128Mi', disks: [{ name: 'root', size: '1Mi' }] } }, want: 201 });
    await call('POST', '/v1/vms/:name/nics', { name: 'nicvm' }, { body: { network: 'lab', name: 'net1' }, want: 201 });
    await call('GET', '/v1/vms/:name/nics', { name: 'nicvm' });
    await call('PATCH', '/v1/vms/:name/nics/:nic', { name: 'nicvm', nic: 'net1' }, { body: { linkUp: false } });
    await call('DELETE', '/v1/vms/:name/nics/:nic', { name: 'nicvm', nic: 'net1' }, { want: 204 });
    await call('DELETE', '/v1/vms/:name', { name: 'nicvm' }, { want: 204 });
    // A NIC's firewall on a stopped VM (the spec alone changes; a running VM's nftables rules: test/web-firewall.test.ts).
    await call('POST', '/v1/vms', {}, { body: { spec: { name: 'fwvm', memory: '128Mi', disks: [{ name: 'root', size: '1Mi' }], networks: [{ name: 'net0', network: 'lab' }] } }, want: 201 });
    await call('GET', '/v1/vms/:name/nics/:nic/firewall', { name: 'fwvm', nic: 'net0' });
    await call('PUT', '/v1/vms/:name/nics/:nic/firewall', { name: 'fwvm', nic: 'net0' }, { body: { firewall: { defaultIn: 'drop', rules: [{ direction: 'in', action: 'accept', protocol: 'tcp', port: 22 }] } } });
    await call('DELETE', '/v1/vms/:name', { name: 'fwvm' }, { want: 204 });
    await call('DELETE', '/v1/networks/:name', { name: 'lab' }, { want: 204 });
  });

  it('resize of a stopped VM (the spec alone changes; hot-plug into a running guest: test/hotplug.test.ts)', async () => {
    await call('POST', '/v1/vms', {}, { body: { spec: { name: 'rsvm', memory: { size: '128Mi', max: { size: '512Mi' } }, cpu: { count: 1, max: 3 }, disks: [{ name: 'root', size: '1Mi' }] } }, want: 201 });
    expect((await call('POST', '/v1/vms/:name/resize', { name: 'rsvm' }, { body: { cpus: 2, memoryMiB: 256 } })).json()).toMatchObject({ live: false, cpus: 2, memoryMiB: 256, maxCpus: 3, maxMemoryMiB: 512, changed: ['cpus', 'memory'] });
    await call('DELETE', '/v1/vms/:name', { name: 'rsvm' }, { want: 204 });
  });

  it('declarative stacks: plan, graph, apply, status, drift, down, destroy', async () => {
    const spec = { memory: '64Mi', disks: [{ name: 'd', size: '1Mi' }] };
    const document = { name: 'st', vms: { db: { spec }, app: { spec, depends_on: ['db'] } } };
    await call('POST', '/v1/stacks/plan', {}, { body: { document } });
    await call('POST', '/v1/stacks/graph', {}, { body: { document } });
    const wait = async (op: Record<string, unknown>) => {
      const done = (await call('POST', '/v1/operations/:id/wait', { id: String(op['id']) }, { query: 'timeout=30' })).json();
      expect(done['status'], JSON.stringify(done['error'])).toBe('succeeded');
    };
    // The stub driver starts no VM: the apply makes a volume and a data-less network (real qemu-img, in-memory host plumbing).
    const made = { name: 'st', volumes: { 'st-data': { size: '1Mi' } }, networks: { stnet: { mode: 'isolated', subnet: '10.92.0.0/24' } } };
    await wait((await call('POST', '/v1/stacks/apply', {}, { body: { document: made }, want: 202 })).json());
    await call('GET', '/v1/stacks');
    await call('GET', '/v1/stacks/:name', { name: 'st' });
    await call('GET', '/v1/stacks/:name/drift', { name: 'st' });
    await wait((await call('POST', '/v1/stacks/:name/down', { name: 'st' }, { body: {}, want: 202 })).json());
    await wait((await call('DELETE', '/v1/stacks/:name', { name: 'st' }, { want: 202 })).json());
  });

  it('foreign VM formats: a file import (dry run, and as an operation) and a config export (waited for, and as an operation)', async () => {
    const wait = async (op: Record<string, unknown>) => {
      const done = (await call('POST', '/v1/operations/:id/wait', { id: String(op['id']) }, { query: 'timeout=60' })).json();
      expect(done['status'], JSON.stringify(done['error'])).toBe('succeeded');
    };
    const inDir = path.join(stack.dir, 'interchange-in');
    mkdirSync(inDir, { recursive: true });
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(inDir, 'vm-100-disk-0.qcow2'), '4M']).status).toBe(0);
    writeFileSync(path.join(inDir, 'pve.conf'), 'cores: 1\nmemory: 64\nname: pvevm\nnet0: e1000=BC:24:11:00:00:01,bridge=vmbr0\nscsi0: local:100/vm-100-disk-0.qcow2,size=4M\nscsihw: virtio-scsi-pci\n');
    const dry = (await call('POST', '/v1/imports', {}, { body: { path: path.join(inDir, 'pve.conf'), dryRun: true } })).json();
    expect(dry['dryRun']).toBe(true);
    // The upload takes the file itself as its body (not JSON): sent by fetch, its answer checked the same way.
    const up = await fetch(`${base}/v1/import/upload?filename=pve.conf`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: readFileSync(path.join(inDir, 'pve.conf')) });
    const upText = await up.text();
    expect(up.status, upText).toBe(201);
    problems.push(...checker.problems({ method: 'POST', route: '/v1/import/upload', status: up.status, contentType: up.headers.get('content-type') ?? '', body: upText }));
    const uploaded = JSON.parse(upText) as { path: string };
    expect((await call('POST', '/v1/imports', {}, { body: { path: uploaded.path, dryRun: true } })).json()['format']).toBe('proxmox');
    await wait((await call('POST', '/v1/imports', {}, { body: { path: path.join(inDir, 'pve.conf') }, query: 'async=true', want: 202 })).json());
    await call('POST', '/v1/vms/:name/export-config', { name: 'pvevm' }, { body: { format: 'hyperv', out: path.join(stack.dir, 'interchange-out-hv') } });
    await wait((await call('POST', '/v1/vms/:name/export-config', { name: 'pvevm' }, { body: { format: 'proxmox', out: path.join(stack.dir, 'interchange-out-pve') }, query: 'async=true', want: 202 })).json());
    await call('DELETE', '/v1/vms/:name', { name: 'pvevm' }, { want: 204 });
  });

  it('VMs, operations and events', async () => {
    const created = await call('POST', '/v1/vms', {}, { body: { spec: { name: 'a', memory: '128Mi', labels: { tier: 'web' }, disks: [{ name: 'root', size: '16Mi' }] } }, want: 201 });
    await call('GET', '/v1/vms');
    await call('GET', '/v1/vms/:name', { name: 'a' });
    await call('POST', '/v1/specs/validate', {}, { body: { spec: { name: 'a', memory: 'lots' } } });
    await call('POST', '/v1/specs/validate', {}, { body: { spec: { name: 'a-new', disks: [{ name: 'root', size: '8Mi' }] } } });
    await call('PUT', '/v1/vms/:name', { name: 'a' }, { body: { spec: { ...(created.json()['spec'] as object), memory: '192Mi' } } });
    await call('GET', '/v1/vms/:name/serial-log', { name: 'a' });
    await call('GET', '/v1/vms/:name/history', { name: 'a' }, { query: 'range=1d' });
    const op = (await call('POST', '/v1/vms/:name/:action', { name: 'a', action: 'start' }, { query: 'async=true', body: {}, want: 202 })).json();
    await call('POST', '/v1/operations/:id/wait', { id: String(op['id']) }, { query: 'timeout=10' });
    await call('GET', '/v1/operations/:id', { id: String(op['id']) });
    await call('GET', '/v1/operations');
    await call('DELETE', '/v1/operations/:id', { id: String(op['id']) });
    await call('POST', '/v1/vms/:name/clone', { name: 'a' }, { body: { name: 'a2' }, want: 201 });
    await call('POST', '/v1/vms/:name/clone', { name: 'a' }, { body: { name: 'a3' }, query: 'async=true', want: 202 });
    // The stream from its start (Last-Event-ID 0): every kind of event the calls above caused.
    const events = await rawCall(base, 'GET', '/v1/events', { token, sseEvents: 4 });
    expect(events.body).toMatch(/^data: /m);
    problems.push(...checker.problems({ method: 'GET', route: '/v1/events', ...events }));
    await call('DELETE', '/v1/vms/:name', { name: 'a2' }, { want: 204 });
    await upgrade('/v1/events');
    await upgrade('/v1/stats', {}, '?interval=2');
    await upgrade('/v1/vms/:name/console', { name: 'a' });
    await upgrade('/v1/vms/:name/vnc', { name: 'a' });
  }, 120_000);

  it('storage: pools, volumes, images, VM disks, exports (with NDJSON progress)', async () => {
    const dir = path.join(stack.dir, 'extra');
    await call('GET', '/v1/pools');
    await call('POST', '/v1/pools', {}, { body: { name: 'p2', path: path.join(dir, 'p2') }, want: 201 });
    await call('GET', '/v1/pools/:pool', { pool: 'p2' });
    await call('POST', '/v1/pools/:pool/volumes', { pool: 'p2' }, { body: { name: 'v1', size: '8Mi' }, want: 201 });
    await call('POST', '/v1/pools/:pool/volumes', { pool: 'p2' }, { body: { name: 'v2', cloneFrom: 'v1' }, query: 'progress=ndjson', want: 200 });
    await call('GET', '/v1/pools/:pool/volumes', { pool: 'p2' });
    await call('GET', '/v1/pools/:pool/volumes/:volume', { pool: 'p2', volume: 'v1' });
    await call('POST', '/v1/pools/:pool/volumes/:volume/resize', { pool: 'p2', volume: 'v1' }, { body: { size: '16Mi' } });
    await call('POST', '/v1/vms/:name/disks', { name: 'a' }, { body: { pool: 'p2', volume: 'v1' }, want: 201 });
    await call('DELETE', '/v1/vms/:name/disks/:disk', { name: 'a', disk: 'v1' }, { want: 204 });
    await call('DELETE', '/v1/pools/:pool/volumes/:volume', { pool: 'p2', volume: 'v1' }, { want: 204 });
    await call('DELETE', '/v1/pools/:pool/volumes/:volume', { pool: 'p2', volume: 'v2' }, { want: 204 });
    await call('DELETE', '/v1/pools/:pool', { pool: 'p2' }, { want: 204 });
    const file = path.join(stack.dir, 'src.qcow2');
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, '8M']).status).toBe(0);
    await call('POST', '/v1/images', {}, { body: { name: 'img1', path: file, insecureNoChecksum: true }, want: 201 });
    await call('POST', '/v1/images', {}, { body: { name: 'img2', path: file, insecureNoChecksum: true }, query: 'progress=ndjson', want: 200 });
    await call('GET', '/v1/images');
    await call('GET', '/v1/images/:image', { image: 'img1' });
    await call('DELETE', '/v1/images/:image', { image: 'img2' }, { want: 204 });
    await call('POST', '/v1/vms/:name/export', { name: 'a' }, { body: { formats: 'vdi', outDir: path.join(dir, 'out1') } });
    await call('POST', '/v1/vms/:name/export', { name: 'a' }, { body: { formats: ['vhdx'], outDir: path.join(dir, 'out2') }, query: 'progress=ndjson' });
  }, 120_000);

  it('snapshots, backups and schedules', async () => {
    await call('POST', '/v1/vms/:name/snapshots', { name: 'a' }, { body: { name: 's1', description: 'first' }, want: 201 });
    await call('GET', '/v1/vms/:name/snapshots', { name: 'a' });
    await call('POST', '/v1/vms/:name/snapshots/:snapshot/revert', { name: 'a', snapshot: 's1' });
    await call('DELETE', '/v1/vms/:name/snapshots/:snapshot', { name: 'a', snapshot: 's1' }, { want: 204 });
    const b = (await call('POST', '/v1/vms/:name/backups', { name: 'a' }, { body: {}, want: 201 })).json();
    const op = (await call('POST', '/v1/vms/:name/backups', { name: 'a' }, { body: { full: true }, query: 'async=1', want: 202 })).json();
    await call('POST', '/v1/operations/:id/wait', { id: String(op['id']) }, { query: 'timeout=60' });
    await call('GET', '/v1/vms/:name/backups', { name: 'a' });
    await call('GET', '/v1/vms/:name/backups/:id', { name: 'a', id: String(b['id']) });
    await call('POST', '/v1/vms/:name/backups/:id/verify', { name: 'a', id: String(b['id']) }, { body: {} });
    await call('POST', '/v1/vms/:name/backups/:id/restore', { name: 'a', id: String(b['id']) }, { body: { confirm: true } });
    await call('POST', '/v1/vms/:name/backups/prune', { name: 'a' }, { body: { keepLast: 1, dryRun: true } });
    await call('POST', '/v1/backup-schedules', {}, { body: { name: 'nightly', vm: 'a', when: 'daily 02:00', retention: { keepDaily: 7 } }, want: 201 });
    await call('GET', '/v1/backup-schedules');
    await call('GET', '/v1/backup-schedules/:name', { name: 'nightly' });
    await call('PUT', '/v1/backup-schedules/:name', { name: 'nightly' }, { body: { selector: { tier: 'web' }, when: 'every 6h' } });
    await call('DELETE', '/v1/backup-schedules/:name', { name: 'nightly' }, { want: 204 });
  }, 180_000);

  it('bulk actions: finished and asynchronous', async () => {
    await call('POST', '/v1/vms/actions', {}, { body: { action: 'stop', selector: 'tier=web', dryRun: true } });
    const op = (await call('POST', '/v1/vms/actions', {}, { body: { action: 'snapshot', names: ['a'], options: { name: 'bulk-1' } }, query: 'async=true', want: 202 })).json();
    await call('POST', '/v1/operations/:id/wait', { id: String(op['id']) }, { query: 'timeout=30' });
  });

  it('moves: the asynchronous start and the target\'s idempotent abort', async () => {
    await call('POST', '/v1/vms/:name/migrate', { name: 'a' }, { body: {}, query: 'async=1', want: 202 });
    const vm = (await call('GET', '/v1/vms/:name', { name: 'a' })).json();
    await call('POST', '/v1/migrations/incoming/:id/abort', { id: 'mig-abc-0123abcd' }, { body: { vm: 'a', vmId: String(vm['id']) } });
  });

  it('endpoints, drivers, the inventory and foreign VMs (on the in-memory stand-in driver of test/helpers/mem-driver.ts)', async () => {
    await call('GET', '/v1/drivers');
    await call('POST', '/v1/endpoints', {}, { body: { name: 'm1', driver: 'mem', url: 'mem://x', user: 'u', password: 'pw-not-shown' }, want: 201 });
    await call('GET', '/v1/endpoints');
    await call('GET', '/v1/endpoints/:endpoint', { endpoint: 'm1' });
    await call('POST', '/v1/endpoints/:endpoint/test', { endpoint: 'm1' }, { body: {} });
    await call('GET', '/v1/inventory', {}, { query: 'fresh=true' });
    const vm = { endpoint: 'm1', vm: 'a' };
    await call('GET', '/v1/endpoints/:endpoint/vms/:vm', vm);
    await call('POST', '/v1/endpoints/:endpoint/vms/:vm/reconfigure', vm, { body: { cpus: 2, memory: '512Mi' } });
    await call('POST', '/v1/endpoints/:endpoint/vms/:vm/:action', { ...vm, action: 'start' }, { body: {} });
    await call('POST', '/v1/endpoints/:endpoint/vms/:vm/:action', { ...vm, action: 'pause' }, { body: {}, query: 'async=true', want: 202 });
    await call('POST', '/v1/endpoints/:endpoint/vms/:vm/snapshots', vm, { body: { name: 's1', memory: true } });
    await call('POST', '/v1/endpoints/:endpoint/vms/:vm/snapshots', vm, { body: { name: 's2' }, query: 'async=true', want: 202 });
    await call('GET', '/v1/endpoints/:endpoint/vms/:vm/snapshots', vm);
    await call('POST', '/v1/endpoints/:endpoint/vms/:vm/snapshots/:snap/revert', { ...vm, snap: 's1' }, { body: {} });
    await call('DELETE', '/v1/endpoints/:endpoint/vms/:vm/snapshots/:snap', { ...vm, snap: 's1' }, { want: 204 });
    await call('POST', '/v1/endpoints/:endpoint/vms/:vm/migrate', vm, { body: { host: 'h2' } });
    await call('POST', '/v1/endpoints/:endpoint/vms/:vm/clone', vm, { body: { name: 'a2' } });
    await call('POST', '/v1/endpoints/:endpoint/vms/:vm/clone', vm, { body: { name: 'a3' }, query: 'async=true', want: 202 });
    await call('POST', '/v1/endpoints/:endpoint/vms/:vm/migrate', vm, { body: { host: 'h1' }, query: 'async=true', want: 202 });
    await call('POST', '/v1/endpoints/:endpoint/vms/:vm/snapshots/:snap/revert', { ...vm, snap: 's2' }, { body: {}, query: 'async=true', want: 202 });
    await call('POST', '/v1/endpoints/:endpoint/vms/:vm/import', { endpoint: 'm1', vm: 'a2' }, { body: { name: 'imported-a2', start: false } });
    await call('POST', '/v1/endpoints/:endpoint/vms/:vm/import', { endpoint: 'm1', vm: 'a2' }, { body: { name: 'imported-a2b', start: false }, query: 'async=true', want: 202 });
    for (const n of ['mv1', 'mv2']) await call('POST', '/v1/vms', {}, { body: { spec: { name: n, memory: '64Mi', disks: [{ name: 'd', size: '1Mi' }] } }, want: 201 });
    await call('POST', '/v1/vms/:name/move', { name: 'mv1' }, { body: { endpoint: 'm1' } });
    await call('POST', '/v1/vms/:name/move', { name: 'mv2' }, { body: { endpoint: 'm1', keep: true }, query: 'async=true', want: 202 });
    expect((await call('GET', '/v1/endpoints')).body).not.toContain('pw-not-shown');
    await call('DELETE', '/v1/endpoints/:endpoint', { endpoint: 'm1' }, { want: 204 });
  });

  it('the web UI: its shell, client routes and an asset', async () => {
    const routes = stack.api.routes.filter((r) => r.permission === 'public' && r.method === 'GET' && !r.url.startsWith('/v1/') && !r.url.includes(':file'));
    for (const r of routes) await call('GET', r.url, { name: 'a' });
    const asset = readdirSync(path.resolve('dist/web/assets')).find((f) => f.endsWith('.js'));
    await call('GET', '/assets/:file', { file: asset! });
  });

  it('the check is not a rubber stamp: a changed answer fails it', async () => {
    const vm = await rawCall(base, 'GET', '/v1/vms/a', { token });
    const check = (body: unknown, over: Partial<{ status: number; contentType: string }> = {}) =>
      checker.problems({ method: 'GET', route: '/v1/vms/:name', status: 200, contentType: vm.contentType, body: JSON.stringify(body), ...over });
    const good = JSON.parse(vm.body) as Record<string, unknown>;
    expect(check(good)).toEqual([]);
    expect(check({ ...good, surprise: 1 }).join()).toMatch(/additional propert/);
    const { state: _s, ...noState } = good;
    expect(check(noState).join()).toMatch(/required property 'state'/);
    expect(check({ ...good, state: 'flying' }).join()).toMatch(/allowed values/);
    expect(check({ ...good, spec: { ...(good['spec'] as object), memory: 'lots' } }).join()).toMatch(/memory/);
    expect(check(good, { status: 201 }).join()).toMatch(/status not documented/);
    expect(check(good, { contentType: 'text/html' }).join()).toMatch(/media type/);
    expect(checker.problems({ method: 'GET', route: '/v1/events', status: 200, contentType: 'text/event-stream', body: 'data: {"seq":1}\n\n' }).join()).toMatch(/type/);
  });

  it('every answer matched the document, and every documented answer was seen (here or with a guest)', () => {
    expect(problems).toEqual([]);
    const unseen = stack.api.routes.flatMap((r) => responseDocs(r).map((d) => `${r.method} ${r.url} ${d.status}`))
      .filter((k) => !checker.checked.has(k) && !(k in GUEST_ANSWERS));
    expect(unseen, 'documented answers no test produced').toEqual([]);
  });
});
