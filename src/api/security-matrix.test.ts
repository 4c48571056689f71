/**
 * Issue 23, the route x role x listener matrix, in process on the full stub
 * stack (every route the daemon registers): the routes come from the app's
 * own route table AND the OpenAPI document it serves (a route in one and not
 * the other fails), so a new route is covered without editing this file.
 * Every HTTP route and every WebSocket upgrade: 401 without a token on TCP,
 * 403 for each role the route's declared permission leaves out, neither for a
 * role it includes. A small explicit table pins the sensitive routes so a
 * silent loosening fails. The unix listener is the trusted admin "local" by
 * design (its file mode is the guard: test/security-matrix.test.ts). Incoming
 * migration without the peer's token is refused and the VM left untouched.
 * The real listeners (unix, TCP, TLS) are walked in test/security-matrix.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFullStubStack, type FullStubStack } from '../../test/helpers/full-stub-stack.js';
import { ROLES } from '../shared/index.js';
import type { Role } from '../spec/index.js';
import { roleAllows, rolesWith, type Permission } from './auth/permissions.js';
import type { RegisteredRoute } from './openapi.js';

let tcp: FullStubStack;
let unix: FullStubStack;
const tokens: Partial<Record<Role, string>> = {};
let doc: { paths: Record<string, Record<string, { 'x-permission': string; 'x-roles': string[]; responses: Record<string, unknown> }>> };

/**
 * The sensitive routes and the permission each must keep. Every route whose
 * URL names one of these areas must be listed here: a new one fails until it
 * is classified, and a changed permission fails.
 */
export const SENSITIVE: Record<string, Permission> = {
  'GET /v1/secrets': 'secret:admin',
  'PUT /v1/secrets/:name': 'secret:admin',
  'DELETE /v1/secrets/:name': 'secret:admin',
  'POST /v1/secrets/rotate-key': 'secret:admin',
  'GET /v1/tokens': 'token:admin',
  'POST /v1/tokens': 'token:admin',
  'DELETE /v1/tokens/:name': 'token:admin',
  'GET /v1/audit': 'audit:read',
  'POST /v1/migrations/incoming': 'vm:migrate-in',
  'GET /v1/migrations/incoming/:id': 'vm:migrate-in',
  'POST /v1/migrations/incoming/:id/commit': 'vm:migrate-in',
  'POST /v1/migrations/incoming/:id/abort': 'vm:migrate-in',
  'GET /v1/peers': 'vm:migrate', // operators pick a move's target from the admin's list (names and URLs, no tokens)
  'POST /v1/peers': 'peer:admin',
  'DELETE /v1/peers/:name': 'peer:admin',
  'GET /v1/endpoints': 'vm:read', // names and connection state, never credentials
  'GET /v1/endpoints/:endpoint': 'vm:read',
  'POST /v1/endpoints': 'endpoint:admin',
  'DELETE /v1/endpoints/:endpoint': 'endpoint:admin',
};
const SENSITIVE_AREA = /^\/v1\/(secrets|tokens|audit|migrations\/incoming|peers)(\/|$)|^\/v1\/endpoints(\/:endpoint)?$/;
/** Who may hold each sensitive permission: admin alone, except receiving VMs (the peer role). */
const HOLDERS: Partial<Record<Permission, Role[]>> = {
  'secret:admin': ['admin'], 'token:admin': ['admin'], 'audit:read': ['admin'], 'peer:admin': ['admin'], 'endpoint:admin': ['admin'], 'vm:migrate-in': ['admin', 'peer'],
};

beforeAll(async () => {
  tcp = await openFullStubStack('matrix-tcp', 'tcp');
  unix = await openFullStubStack('matrix-unix', 'unix');
  await tcp.api.app.ready();
  await unix.api.app.ready();
  for (const role of ROLES) tokens[role] = (await tcp.platform.tokens.create(`m-${role}`, role)).token;
  doc = JSON.parse((await tcp.api.app.inject({ method: 'GET', url: '/v1/openapi.json' })).body) as typeof doc;
}, 60_000);
afterAll(async () => {
  await tcp?.close();
  await unix?.close();
});

const key = (r: { method: string; url: string }): string => `${r.method} ${r.url}`;
const openapiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const concrete = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, (_m, p: string) => (p === 'action' ? 'start' : `nope-${p}`));
const auth = (role?: Role): Record<string, string> => (role ? { authorization: `Bearer ${tokens[role]!}` } : {});

/** Routes whose answer was still streaming after STREAM_MS (an event stream): they were let through, or they would have answered at once. */
const streaming = new Set<string>();
const STREAM_MS = 2_000;

async function httpStatus(s: FullStubStack, r: RegisteredRoute, role?: Role): Promise<number> {
  const body = ['POST', 'PUT', 'PATCH'].includes(r.method) ? {} : undefined;
  const answer = s.api.app.inject({ method: r.method as 'GET', url: concrete(r.url), headers: auth(role), ...(body ? { payload: body } : {}) }).then((res) => res.statusCode);
  let timer: NodeJS.Timeout | undefined;
  const still = new Promise<number>((resolve) => { timer = setTimeout(() => resolve(0), STREAM_MS); });
  const status = await Promise.race([answer, still]);
  clearTimeout(timer);
  if (status !== 0) return status;
  // Slow but not a stream (a loaded host): wait for its real answer; a route that never answers fails the test by its timeout.
  if (!/event-stream|ndjson/.test(r.doc?.response?.contentType ?? '')) return answer;
  streaming.add(key(r));
  return 200;
}

/** The status a WebSocket upgrade of `url` gets: 101 when it opens, else the HTTP answer that refused it. */
async function upgradeStatus(s: FullStubStack, url: string, role?: Role): Promise<number> {
  try {
    const ws = await s.api.app.injectWS(url, { headers: auth(role) });
    ws.terminate();
    return 101;
  } catch (err) {
    const m = /Unexpected server response: (\d+)/.exec(String(err));
    if (!m) throw err;
    return Number(m[1]);
  }
}

describe('the route table and the OpenAPI document', () => {
  it('name the same routes with the same permission and roles', () => {
    const fromApp = tcp.api.routes.map((r) => key(r)).sort();
    const fromDoc = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{([^}]+)\}/g, ':$1')}`)).sort();
    expect(fromDoc).toEqual(fromApp);
    for (const r of tcp.api.routes) {
      const op = doc.paths[openapiPath(r.url)]![r.method.toLowerCase()]!;
      expect(op['x-permission'], key(r)).toBe(r.permission);
      expect(op['x-roles'], key(r)).toEqual(r.permission === 'public' ? expect.anything() : rolesWith(r.permission));
    }
    expect(tcp.api.routes.length).toBeGreaterThan(100);
  });

  it('every WebSocket route is documented with its 101 answer; console, VNC, events and stats are among them', () => {
    const ws = tcp.api.routes.filter((r) => r.websocket).map((r) => key(r));
    for (const k of ws) {
      const [m, u] = k.split(' ') as [string, string];
      expect(Object.keys(doc.paths[openapiPath(u)]![m.toLowerCase()]!.responses), k).toContain('101');
    }
    expect(ws).toEqual(expect.arrayContaining(['GET /v1/vms/:name/console', 'GET /v1/vms/:name/vnc', 'GET /v1/events', 'GET /v1/stats']));
  });

  it('the sensitive routes keep their permissions, and every route in a sensitive area is classified', () => {
    const byKey = new Map(tcp.api.routes.map((r) => [key(r), r]));
    for (const [k, p] of Object.entries(SENSITIVE)) expect(byKey.get(k)?.permission, k).toBe(p);
    for (const r of tcp.api.routes.filter((x) => SENSITIVE_AREA.test(x.url))) {
      expect(Object.keys(SENSITIVE), `${key(r)} (${r.permission}) is in a sensitive area: list it in SENSITIVE with the permission it must keep`).toContain(key(r));
    }
    for (const [p, holders] of Object.entries(HOLDERS)) expect(rolesWith(p as Permission), p).toEqual(holders);
  });
});

describe('every route x every role on TCP (in process)', () => {
  it('HTTP: 401 without a token, 403 for a role without the permission, neither for a role with it', async () => {
    let checked = 0;
    for (const r of tcp.api.routes) {
      const anon = await httpStatus(tcp, r);
      if (r.permission === 'public') expect([401, 403], key(r)).not.toContain(anon);
      else expect(anon, `${key(r)} without a token`).toBe(401);
      for (const role of ROLES) {
        const s = await httpStatus(tcp, r, role);
        if (roleAllows(role, r.permission)) expect([401, 403], `${key(r)} as ${role}`).not.toContain(s);
        else expect(s, `${key(r)} as ${role}`).toBe(403);
        expect(s, `${key(r)} as ${role}`).toBeLessThan(500);
        checked++;
      }
    }
    expect(checked).toBe(tcp.api.routes.length * ROLES.length);
    // only documented streams may still be open (they passed authentication and authorization)
    for (const k of streaming) expect(tcp.api.routes.find((r) => key(r) === k)?.doc?.response?.contentType, k).toMatch(/event-stream|ndjson/);
  }, 120_000);

  it('WebSocket upgrades: refused with 401 without a token and 403 for a role without the permission', async () => {
    const wsRoutes = tcp.api.routes.filter((r) => r.websocket);
    for (const r of wsRoutes) {
      const url = concrete(r.url);
      expect(await upgradeStatus(tcp, url), `${key(r)} upgrade without a token`).toBe(401);
      for (const role of ROLES) {
        const s = await upgradeStatus(tcp, url, role);
        if (roleAllows(role, r.permission)) expect([401, 403], `${key(r)} upgrade as ${role}`).not.toContain(s);
        else expect(s, `${key(r)} upgrade as ${role}`).toBe(403);
      }
    }
    expect(await upgradeStatus(tcp, '/v1/events', 'viewer')).toBe(101);
    expect(await upgradeStatus(tcp, '/v1/stats', 'viewer')).toBe(101);
  });
});

describe('the unix listener', () => {
  it('is the trusted admin "local" on every route (its file mode is what guards it)', async () => {
    for (const r of unix.api.routes) expect([401, 403], key(r)).not.toContain(await httpStatus(unix, r));
    const who = await unix.api.app.inject({ method: 'GET', url: '/v1/whoami' });
    expect(JSON.parse(who.body)).toMatchObject({ actor: 'local', role: 'admin' });
  }, 120_000);
});

describe('incoming migration', () => {
  it('is refused without the peer\'s token (and for operators and viewers), and the VM is untouched', async () => {
    const created = await tcp.api.app.inject({ method: 'POST', url: '/v1/vms', headers: auth('admin'), payload: { spec: { name: 'kept', memory: '64Mi', disks: [{ name: 'd', size: '1Mi' }] } } });
    expect(created.statusCode, created.body).toBe(201);
    const before = JSON.stringify(await tcp.store.listVms());
    const vm = JSON.parse(created.body) as { id: string; spec: Record<string, unknown> };
    const body = { vm: { name: 'kept', id: vm.id, spec: vm.spec }, disks: [], timeoutSeconds: 60 };
    for (const role of [undefined, 'viewer', 'operator'] as const) {
      const res = await tcp.api.app.inject({ method: 'POST', url: '/v1/migrations/incoming', headers: auth(role), payload: body });
      expect(res.statusCode, `${role ?? 'no token'}: ${res.body}`).toBe(role ? 403 : 401);
      expect(JSON.parse(res.body)).toMatchObject({ code: role ? 'FORBIDDEN' : 'UNAUTHENTICATED' });
      for (const step of ['commit', 'abort']) {
        const s = await tcp.api.app.inject({ method: 'POST', url: `/v1/migrations/incoming/${vm.id}/${step}`, headers: auth(role), payload: { vm: 'kept', vmId: vm.id } });
        expect(s.statusCode, `${step} as ${role ?? 'no token'}`).toBe(role ? 403 : 401);
      }
    }
    expect(JSON.stringify(await tcp.store.listVms())).toBe(before);
  });
});
