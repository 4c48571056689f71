/**
 * Issue 23, the listener side of the route x role x listener matrix, on real
 * daemons: every route of the served OpenAPI document and every WebSocket
 * route refused without credentials over TCP and over TLS (401, the upgrade
 * refused), and by a role the route's permission leaves out (403); the unix
 * socket shared with a group (socketGroup): root:GROUP 0660 in a 0710 folder,
 * trusted as the admin "local"; a group that does not exist stops the daemon
 * with CONFIG_INVALID. The per-role half of the matrix for every route is
 * src/api/security-matrix.test.ts (in process, the full stub stack).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { qemuConfined, ROOT, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { freePort } from './helpers/http.js';

const GROUP = 'users';
const gidOf = (group: string): number => Number(readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${group}:`))!.split(':')[2]);

let plain: TestDaemon;
let tls: TestDaemon;
let sockDir: string;
const tokens: Record<string, string> = {};
type Op = { 'x-permission': string; 'x-roles': string[]; 'x-websocket'?: boolean };
let doc: { paths: Record<string, Record<string, Op>> };

/** One request over TCP, TLS (certificate not checked: this is about authentication) or the unix socket. */
function call(target: { url?: string; socketPath?: string }, method: string, url: string, token?: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const onRes = (res: http.IncomingMessage): void => {
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        res.destroy();
        return resolve({ status: res.statusCode!, body: '' });
      }
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    };
    const req = target.socketPath
      ? http.request({ socketPath: target.socketPath, path: url, method, headers }, onRes)
      : target.url!.startsWith('https')
        ? https.request(new URL(url, target.url), { method, headers, rejectUnauthorized: false }, onRes)
        : http.request(new URL(url, target.url), { method, headers }, onRes);
    req.on('error', reject);
    req.end(payload);
  });
}

/** The HTTP status a WebSocket upgrade gets: 101 when it opens. */
function upgrade(base: string, url: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(new URL(url, base.replace(/^http/, 'ws')).toString(), { headers: token ? { authorization: `Bearer ${token}` } : {}, rejectUnauthorized: false });
    ws.on('upgrade', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.on('error', reject);
  });
}

beforeAll(async () => {
  sockDir = path.join(tempStateDir('sockdir'), 'run');
  const env = { POLYVISOR_API_RATE_LIMIT: '10000', POLYVISOR_AUTH_FAILURES_PER_MINUTE: '0' };
  [plain, tls] = await Promise.all([
    startDaemon({ env, extraArgs: ['--socket', path.join(sockDir, 'polyvisord.sock'), '--socket-group', GROUP] }),
    startDaemon({ env, extraArgs: ['--listen', `127.0.0.1:${await freePort()}`, '--tls'] }),
  ]);
  for (const role of ['admin', 'operator', 'viewer', 'peer']) {
    const r = await call({ socketPath: plain.socket }, 'POST', '/v1/tokens', undefined, { name: `m-${role}`, role });
    tokens[role] = (JSON.parse(r.body) as { token: string }).token;
  }
  doc = JSON.parse((await call({ url: plain.url }, 'GET', '/v1/openapi.json')).body) as typeof doc;
}, 120_000);
afterAll(async () => {
  await Promise.all([plain?.stop(), tls?.stop()]);
});

const concrete = (p: string): string => p.replace(/\{([^}]+)\}/g, (_m, k: string) => (k === 'action' ? 'start' : `nope-${k}`));
const operations = (): Array<{ method: string; path: string; op: Op }> => Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).map(([m, op]) => ({ method: m.toUpperCase(), path: p, op })));

describe('the unix socket shared with a group', () => {
  it(`is root:${GROUP} 0660 in a 0710 folder, and trusted as the admin "local"`, async () => {
    const st = statSync(plain.socket);
    expect(st.isSocket()).toBe(true);
    expect((st.mode & 0o777).toString(8)).toBe('660');
    expect(st.gid).toBe(gidOf(GROUP));
    expect(st.uid).toBe(process.getuid!());
    const dir = statSync(sockDir);
    expect((dir.mode & 0o777).toString(8)).toBe('710');
    expect(dir.gid).toBe(gidOf(GROUP));
    // The state directory: private (0700), or root:BASE 0710 when QEMU runs as each VM's own user (the default for root).
    expect((statSync(plain.stateDir).mode & 0o777).toString(8)).toBe(qemuConfined() ? '710' : '700');
    if (qemuConfined()) expect(statSync(plain.stateDir).gid).toBe(plain.qemuUidBase);
    expect(JSON.parse((await call({ socketPath: plain.socket }, 'GET', '/v1/whoami')).body)).toMatchObject({ actor: 'local', role: 'admin' });
  });

  it('a group that does not exist stops the daemon with CONFIG_INVALID, before anything listens', () => {
    const stateDir = tempStateDir('nogroup');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'polyvisord.js'), '--state-dir', stateDir, '--socket', path.join(stateDir, 'run', 's.sock'), '--socket-group', 'no-such-group', '--listen', 'off'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/socketGroup: there is no group "no-such-group"/);
    expect(r.stderr).toMatch(/hint: Fix the named config key/);
  });
});

describe.each([['TCP', () => plain], ['TLS', () => tls]] as const)('every route over %s', (_name, daemon) => {
  it('without a token: 401 on every non-public route (the served document\'s), and every WebSocket upgrade refused', async () => {
    const d = daemon();
    let n = 0;
    for (const { method, path: p, op } of operations()) {
      const url = concrete(p);
      const res = await call({ url: d.url }, method, url, undefined, ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined);
      if (op['x-permission'] === 'public') expect([401, 403], `${method} ${p}`).not.toContain(res.status);
      else {
        expect(res.status, `${method} ${p} without a token`).toBe(401);
        expect(JSON.parse(res.body)).toMatchObject({ code: 'UNAUTHENTICATED' });
      }
      if (op['x-websocket']) expect(await upgrade(d.url, url), `upgrade ${p} without a token`).toBe(401);
      n++;
    }
    expect(n).toBeGreaterThan(100);
    expect(operations().filter((o) => o.op['x-websocket']).length).toBeGreaterThanOrEqual(4);
  }, 120_000);
});

describe('roles over TCP', () => {
  it('each WebSocket route: 403 for every role its permission leaves out, upgraded or refused otherwise for a reason other than 401/403', async () => {
    for (const { path: p, op } of operations().filter((o) => o.op['x-websocket'])) {
      for (const role of ['admin', 'operator', 'viewer', 'peer']) {
        const s = await upgrade(plain.url, concrete(p), tokens[role]);
        if (op['x-roles'].includes(role)) expect([401, 403], `${p} as ${role}`).not.toContain(s);
        else expect(s, `${p} as ${role}`).toBe(403);
      }
    }
  });
});
