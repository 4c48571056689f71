/**
 * The API platform in-process over real TCP: every registered route with
 * every role (enumerated from fastify, not hand-listed), the OpenAPI document
 * against the registry, bad input, and a slow client.
 */
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stubDriver } from '../drivers/stub-driver.js';
import { VmService } from '../lifecycle/index.js';
import { ROLES, silentLogger } from '../shared/index.js';
import type { Role } from '../spec/index.js';
import type { SqliteStore } from '../store/sqlite/index.js';
import { buildApi } from './app.js';
import { roleAllows } from './auth/permissions.js';
import type { RegisteredRoute } from './openapi.js';
import type { ApiPlatform } from './platform.js';
import { openStubStack, type StubStack } from '../../test/helpers/stub-stack.js';

let stack: StubStack;
let dir: string;
let store: SqliteStore;
let platform: ApiPlatform;
let api: Awaited<ReturnType<typeof buildApi>>;
let base: URL;
const tokens: Partial<Record<Role, string>> = {};

beforeAll(async () => {
  stack = await openStubStack('api', { listener: 'tcp', rateLimitPerSecond: 10_000, limits: { headersTimeoutMs: 500, requestTimeoutMs: 1000, checkIntervalMs: 100 } });
  ({ dir, store, platform, api } = stack);
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.app.server.address() as net.AddressInfo;
  base = new URL(`http://127.0.0.1:${addr.port}`);
  for (const role of ROLES) tokens[role] = (await platform.tokens.create(`t-${role}`, role)).token;
});
afterAll(() => stack?.close());

/** Status of a request; streams (SSE) are cut as soon as the status is known. */
function statusOf(method: string, url: string, token?: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const req = http.request(new URL(url, base), { method, headers }, (res) => {
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        res.destroy();
        return resolve({ status: res.statusCode!, json: null });
      }
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, json: text && res.headers['content-type']?.includes('json') ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const concrete = (r: RegisteredRoute): string => r.url.replace(/:([A-Za-z0-9_]+)/g, (_m, p: string) => (p === 'action' ? 'start' : `nope-${p}`));

describe('routes', () => {
  it('are many, and each declares a permission', () => {
    expect(api.routes.length).toBeGreaterThan(12);
    for (const r of api.routes) expect(r.permission, `${r.method} ${r.url}`).toBeTruthy();
  });

  it('a route without a permission cannot be registered', async () => {
    const service = new VmService({ store, driver: stubDriver, host: 'h', vmsDir: path.join(dir, 'vms'), logger: silentLogger });
    const other = await buildApi({ service, platform, listener: 'tcp', logger: silentLogger, version: 't', host: 'h' });
    const app: FastifyInstance = other.app;
    const register = async () => {
      app.get('/v1/forgotten', async () => 'x');
      await app.ready();
    };
    await expect(register()).rejects.toThrow(/declares no valid permission/);
    await other.close().catch(() => undefined);
  });

  it('every route x every role: 401 without a token, 403 with too weak a role, neither with enough', async () => {
    const seen: string[] = [];
    for (const r of api.routes) {
      const url = concrete(r);
      const body = ['POST', 'PUT', 'PATCH'].includes(r.method) ? {} : undefined;
      const anon = await statusOf(r.method, url, undefined, body);
      if (r.permission === 'public') expect([401, 403], `${r.method} ${r.url}`).not.toContain(anon.status);
      else expect(anon.status, `${r.method} ${r.url} without token`).toBe(401);
      expect((await statusOf(r.method, url, 'pvt_' + 'x'.repeat(43), body)).status === 401 || r.permission === 'public').toBe(true);
      for (const role of ROLES) {
        const res = await statusOf(r.method, url, tokens[role], body);
        if (roleAllows(role, r.permission)) expect([401, 403], `${r.method} ${r.url} as ${role}: ${JSON.stringify(res.json)}`).not.toContain(res.status);
        else expect(res.status, `${r.method} ${r.url} as ${role}`).toBe(403);
        expect(res.status, `${r.method} ${r.url} as ${role}: ${JSON.stringify(res.json)}`).toBeLessThan(500);
      }
      seen.push(`${r.method} ${r.url}`);
    }
    expect(seen).toContain('DELETE /v1/tokens/:name');
  });

  it('every registered route is in the OpenAPI document, with its permission', async () => {
    const doc = (await statusOf('GET', '/v1/openapi.json')).json as { paths: Record<string, Record<string, { 'x-permission': string }>> };
    for (const r of api.routes) {
      const p = doc.paths[r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[r.method.toLowerCase()];
      expect(p?.['x-permission'], `${r.method} ${r.url}`).toBe(r.permission);
    }
    const count = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    expect(count).toBe(api.routes.length);
  });
});

describe('request ids', () => {
  it('every answer carries a unique x-request-id, also errors and refusals', async () => {
    const a = await api.app.inject({ method: 'GET', url: '/v1/vms', headers: { authorization: `Bearer ${tokens.viewer}` } });
    const b = await api.app.inject({ method: 'GET', url: '/v1/vms' });
    expect(a.headers['x-request-id']).toMatch(/^req-/);
    expect(b.statusCode).toBe(401);
    expect(b.headers['x-request-id']).toMatch(/^req-/);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });
});

describe('tokens and bad input', () => {
  it('a revoked token stops working at once', async () => {
    const t = (await platform.tokens.create('short-lived', 'viewer')).token;
    expect((await statusOf('GET', '/v1/vms', t)).status).toBe(200);
    await platform.tokens.revoke('short-lived');
    expect((await statusOf('GET', '/v1/vms', t)).json).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('answers 400 naming the field, 404 for unknown routes, 413 for big bodies, and changes nothing', async () => {
    const bad = await statusOf('POST', '/v1/tokens', tokens.admin, { name: 'x', role: 'root' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'INVALID_BODY', details: [{ field: 'role' }] });
    expect((await statusOf('POST', '/v1/vms/web/stop', tokens.admin, { timeoutSeconds: 'soon' })).json).toMatchObject({ details: [{ field: 'timeoutSeconds' }] });
    expect((await statusOf('GET', '/v1/nothing-here', tokens.viewer)).status).toBe(404);
    expect((await statusOf('GET', '/v1/nothing-here')).status).toBe(401);
    expect((await statusOf('POST', '/v1/tokens', tokens.admin, { name: 'big', role: 'viewer', pad: 'x'.repeat(2 * 1024 * 1024) })).status).toBe(413);
    expect((await platform.tokens.list()).map((t) => t.name)).not.toContain('x');
    expect((await platform.tokens.list()).map((t) => t.name)).not.toContain('big');
  });

  it('drops a client that sends its headers too slowly', async () => {
    const sock = net.connect(Number(base.port), '127.0.0.1');
    sock.write('GET /v1/health HTTP/1.1\r\nHost: x\r\n');
    const t0 = Date.now();
    const answer = await new Promise<string>((resolve) => {
      let got = '';
      sock.on('data', (c: Buffer) => (got += c.toString()));
      sock.on('close', () => resolve(got));
    });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(answer).toMatch(/^HTTP\/1.1 408|^$/);
  });
});
