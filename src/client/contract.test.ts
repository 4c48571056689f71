/**
 * The typed client and the OpenAPI document agree. Every public method of
 * every client class runs against a recording HTTP server on 127.0.0.1 (so
 * plain requests, NDJSON and SSE streams and WebSocket upgrades are all seen
 * as they go on the wire); each request must match a documented operation,
 * and every documented operation must be reached by the client or be listed
 * in NOT_IN_CLIENT with the reason.
 */
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFullStubStack } from '../../test/helpers/full-stub-stack.js';
import * as clientModule from './index.js';
import { ClusterClient, HostClient } from './index.js';
import { BackupClient, BackupScheduleClient, BulkClient, EndpointClient, HistoryClient, MigrationClient, NetworkClient, NicFirewallClient, OpsClient, PlatformClient, PolyvisorClient, SnapshotClient, SpecClient, StackClient, StorageClient, InterchangeClient } from './index.js';

/** Documented operations the typed client does not call, and why. */
const NOT_IN_CLIENT: Record<string, string> = {
  'GET /': 'the web UI page, for browsers',
  'GET /vms/{name}': 'a web UI client route, for browsers',
  'GET /vms/{name}/edit': 'a web UI client route, for browsers',
  'GET /vms/{name}/clone': 'a web UI client route, for browsers',
  'GET /create': 'a web UI client route, for browsers',
  'GET /storage': 'a web UI client route, for browsers',
  'GET /operations': 'a web UI client route, for browsers',
  'GET /endpoints': 'a web UI client route, for browsers',
  'GET /networks': 'a web UI client route, for browsers',
  'GET /stacks': 'a web UI client route, for browsers',
  'GET /import': 'a web UI client route, for browsers',
  'GET /cluster': 'a web UI client route, for browsers',
  'GET /login': 'a web UI client route, for browsers',
  'GET /assets/{file}': 'the web UI\'s built files, for browsers',
  'GET /v1/openapi.json': 'this document: for API tools and generators',
  'GET /v1/whoami': 'used by the web UI (web/src/api) to hide what the role may not do; the CLI has no use for it',
  'GET /v1/stats': 'used by the web UI\'s dashboards (JSON and its WebSocket); the CLI reads /metrics',
  'PUT /v1/vms/{name}': 'the web UI\'s edit form; the CLI edits by remove and create',
};

type Call = { method: string; path: string; query: string };
const calls: Call[] = [];
let server: http.Server;
let base: string;
let doc: { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>> };

beforeAll(async () => {
  const stack = await openFullStubStack('client-contract');
  await stack.api.app.ready();
  doc = (await stack.api.app.inject({ method: 'GET', url: '/v1/openapi.json' })).json();
  await stack.close();
  server = http.createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    calls.push({ method: req.method!, path: u.pathname, query: u.search });
    req.resume();
    if (u.searchParams.get('progress') === 'ndjson') return void res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end('{"result":{}}\n');
    if (String(req.headers['accept']).includes('text/event-stream')) return void res.writeHead(200, { 'content-type': 'text/event-stream' }).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    const u = new URL(req.url!, 'http://x');
    calls.push({ method: 'GET', path: u.pathname, query: u.search });
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}, 60_000);
afterAll(() => new Promise<void>((r) => server?.close(() => r())));

/** Each client class with the arguments every public method is called with. */
function plan() {
  const o = { endpoint: { url: base }, token: 't' };
  const socketOpened = (ws: { on: (e: string, f: () => void) => void }) => new Promise<void>((r) => { ws.on('error', r); ws.on('close', r); });
  return {
    InterchangeClient: [new InterchangeClient(o), {
      upload: ['vm.ova', Buffer.from('ustar')], importDryRun: [{ path: '/srv/in/vm.conf', virtio: true }], importAsync: [{ path: '/srv/in/vm.conf', name: 'b', strict: true }], exportAsync: ['a', { format: 'proxmox', out: '/srv/out/a' }],
    }],
    StackClient: [new StackClient(o), {
      list: [], plan: [{ document: { name: 's' } }], graph: [{ document: { name: 's' } }], apply: [{ document: { name: 's' }, variables: { n: '2' } }],
      status: ['s'], drift: ['s'], down: ['s'], destroy: ['s'],
    }],
    PolyvisorClient: [new PolyvisorClient(o), {
      health: [], specSchema: [], listVms: [{ labels: { tier: 'web' }, allHosts: true }], getVm: ['a'], createVm: [{ name: 'a' }, { host: 'auto' }], cloneVmAsync: ['a', 'b'], removeVm: ['a', { force: true }],
      action: ['a', 'start'], resizeVm: ['a', { cpus: 2 }], serialLog: ['a'], guestInfo: ['a'], openConsole: ['a'], openVnc: ['a'],
    }],
    PlatformClient: [new PlatformClient(o), {
      createToken: ['n', 'viewer'], listTokens: [], revokeToken: ['n'], listSecrets: [], setSecret: ['s', 'v'], removeSecret: ['s'], rotateSecretKey: [],
      startAction: ['a', 'stop'], listOperations: [{ vm: 'a', status: 'running' }], getOperation: ['op-1'], waitOperation: ['op-1', 5], cancelOperation: ['op-1'],
      audit: [{ actor: 'x', limit: 5 }], followEvents: [() => undefined, { vm: 'a' }],
    }],
    MigrationClient: [new MigrationClient(o), {
      migrate: ['a', {}], migrateAsync: ['a', {}], prepareIncoming: [{}], incomingStatus: ['mig-x-0123abcd'], commitIncoming: ['mig-x-0123abcd'],
      abortIncoming: ['mig-x-0123abcd', { name: 'a', id: 'i' }], status: ['a'], cancel: ['a'], startPostcopy: ['a'], listPeers: [], addPeer: ['b', { url: 'http://127.0.0.1:1', token: 'pvt_peer-token-x' }], removePeer: ['b'],
    }],
    StorageClient: [new StorageClient(o), {
      listPools: [], getPool: ['p'], addPool: ['p', '/srv/p'], removePool: ['p'], listVolumes: ['p'], getVolume: ['p', 'v'], createVolume: ['p', { name: 'v', size: '1Gi' }, () => undefined],
      resizeVolume: ['p', 'v', '2Gi'], deleteVolume: ['p', 'v'], listImages: [], getImage: ['i'], importImage: [{ name: 'i', path: '/x' }, () => undefined], removeImage: ['i'],
      attachDisk: ['a', { pool: 'p', volume: 'v' }], detachDisk: ['a', 'd'], exportVm: ['a', { formats: 'vdi', outDir: '/o' }, () => undefined],
    }],
    SnapshotClient: [new SnapshotClient(o), { list: ['a'], create: ['a', { name: 's' }], revert: ['a', 's'], remove: ['a', 's'] }],
    OpsClient: [new OpsClient(o), { doctor: [], metricsText: [] }],
    BackupClient: [new BackupClient(o), {
      create: ['a'], createAsync: ['a'], list: ['a'], get: ['a', 'b1'], verify: ['a', 'b1'], restore: ['a', 'b1', {}], prune: ['a', { keepLast: 1 }],
    }],
    BackupScheduleClient: [new BackupScheduleClient(o), { list: [], get: ['s'], create: ['s', { when: 'every 6h' }], update: ['s', { when: 'every 6h' }], remove: ['s'] }],
    HistoryClient: [new HistoryClient(o), { vm: ['a', '1d'], host: [] }],
    SpecClient: [new SpecClient(o), { validate: [{ name: 'a', memory: '12x' }] }],
    EndpointClient: [new EndpointClient(o), {
      drivers: [], list: [], show: ['e'], add: [{ name: 'e', driver: 'libvirt', url: 'qemu:///system' }], test: ['e'], remove: ['e'], inventory: [{ endpoint: 'e', fresh: true }],
      vm: ['e', 'v'], action: ['e', 'v', 'start'], actionAsync: ['e', 'v', 'stop'], snapshots: ['e', 'v'], snapshot: ['e', 'v', { name: 's' }], revert: ['e', 'v', 's'],
      removeSnapshot: ['e', 'v', 's'], migrate: ['e', 'v', 'h2'], reconfigure: ['e', 'v', { cpus: 2 }], clone: ['e', 'v', 'c'], importAsync: ['e', 'v', { shutdown: true }], moveAsync: ['v', { endpoint: 'e' }],
    }],
    HostClient: [new HostClient(o), { list: [], inventory: [], cordon: ['h'], uncordon: ['h'], drain: ['h'], drainStatus: ['h'], explain: ['a'], explainSpec: [{ name: 'a' }] }],
    ClusterClient: [new ClusterClient(o), { status: [], init: [['http://127.0.0.1:2379']], join: ['http://127.0.0.1:8006', 'pvj_x'], createToken: [60], admit: ['pvj_x', 'h3'], leave: [], rebalancePlan: [{ threshold: 0.3 }], rebalance: [{ concurrency: 2 }] }],
    NetworkClient: [new NetworkClient(o), {
      list: [], show: ['lab'], leases: ['lab'], create: [{ name: 'lab', mode: 'nat' }], remove: ['lab'],
      vmNics: ['a'], addVmNic: ['a', { network: 'lab' }], setVmNicLink: ['a', 'net1', false], removeVmNic: ['a', 'net1'],
    }],
    NicFirewallClient: [new NicFirewallClient(o), { get: ['a', 'net0'], set: ['a', 'net0', { defaultIn: 'drop', rules: [{ direction: 'in', action: 'accept', protocol: 'tcp', port: 22 }] }] }],
    BulkClient: [new BulkClient(o), { start: [{ action: 'stop', selector: 'tier=web' }], run: [{ action: 'start', names: ['a'], dryRun: true }] }],
    socketOpened,
  } as const;
}

/** The documented operation a request reaches: the path template that matches, static segments before parameters (as fastify routes). */
function operationOf(method: string, path: string): string | undefined {
  const matches = Object.keys(doc.paths).filter((p) => doc.paths[p]![method.toLowerCase()] && new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path));
  matches.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  return matches[0] === undefined ? undefined : `${method} ${matches[0]}`;
}

describe('the typed client and the OpenAPI document', () => {
  const reached = new Map<string, string[]>();

  it('every public method of every client is called, and each request is a documented operation with documented query parameters', async () => {
    const p = plan();
    const { socketOpened, ...clients } = p;
    const exported = Object.entries(clientModule).filter(([k, v]) => typeof v === 'function' && /Client$/.test(k)).map(([k]) => k);
    expect(Object.keys(clients).sort(), 'client classes src/client/index.ts exports').toEqual(exported.sort());
    for (const [cls, [client, methods]] of Object.entries(clients)) {
      const own = Object.getOwnPropertyNames(Object.getPrototypeOf(client)).filter((m) => m !== 'constructor' && !['call', 'post', 'openSocket'].includes(m));
      expect(own.sort(), `${cls}: methods without a planned call`).toEqual(Object.keys(methods).sort());
      for (const [m, args] of Object.entries(methods)) {
        const before = calls.length;
        const fn = (client as unknown as Record<string, (...a: unknown[]) => unknown>)[m]!;
        const out = fn.apply(client, args as unknown[]);
        if (out && typeof (out as { on?: unknown }).on === 'function') await socketOpened(out as never);
        else await out;
        const made = calls.slice(before);
        expect(made.length, `${cls}.${m} made no request`).toBeGreaterThan(0);
        for (const c of made) {
          const op = operationOf(c.method, c.path);
          expect(op, `${cls}.${m}: ${c.method} ${c.path} is not in the OpenAPI document`).toBeDefined();
          reached.set(op!, [...(reached.get(op!) ?? []), `${cls}.${m}`]);
          const [method, tpl] = op!.split(' ') as [string, string];
          const documented = new Set((doc.paths[tpl]![method.toLowerCase()]!.parameters ?? []).filter((x) => x.in === 'query').map((x) => x.name));
          for (const key of new URLSearchParams(c.query).keys()) expect(documented.has(key), `${cls}.${m}: ${op} sends ?${key}, which the document does not list`).toBe(true);
        }
      }
    }
  }, 60_000);

  it('every documented operation is reached by the client or listed as not in it, with a reason', () => {
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    const missing = documented.filter((op) => !reached.has(op) && !(op in NOT_IN_CLIENT));
    expect(missing, 'operations neither in the client nor in NOT_IN_CLIENT').toEqual([]);
    const stale = Object.keys(NOT_IN_CLIENT).filter((op) => reached.has(op) || !documented.includes(op));
    expect(stale, 'NOT_IN_CLIENT entries the client reaches or the document lacks').toEqual([]);
  });
});
