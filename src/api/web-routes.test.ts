/**
 * The routes the web UI added to the API, in-process: who am I, the stats
 * sample, editing a stopped VM's spec, and how the page and its assets are
 * served (also when dist/web is not built).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../shared/index.js';
import type { buildApi } from './app.js';
import type { ApiPlatform } from './platform.js';
import { openStubStack, type StubStack } from '../../test/helpers/stub-stack.js';
import { UI_CSP, uiRoutes } from './routes/ui.js';

let stack: StubStack;
let dir: string;
let platform: ApiPlatform;
let api: Awaited<ReturnType<typeof buildApi>>;
const tokens: Record<string, string> = {};
const call = (method: 'GET' | 'PUT' | 'POST', url: string, role = 'admin', payload?: unknown) =>
  api.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[role]}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });

beforeAll(async () => {
  stack = await openStubStack('webroutes', { listener: 'tcp', rateLimitPerSecond: 10_000 });
  const { service } = stack;
  ({ dir, platform, api } = stack);
  for (const role of ROLES) tokens[role] = (await platform.tokens.create(`t-${role}`, role)).token;
  await service.create((await import('../spec/index.js')).validateSpec({ name: 'ed', memory: '128Mi', disks: [{ name: 'd0', size: '8Mi' }] }));
});
afterAll(() => stack?.close());

describe('GET /v1/whoami', () => {
  it('names the token and lists exactly the permissions of its role', async () => {
    const v = (await call('GET', '/v1/whoami', 'viewer')).json() as { actor: string; role: string; permissions: string[] };
    expect(v).toMatchObject({ actor: 't-viewer', role: 'viewer', via: 'tcp' });
    expect(v.permissions).toContain('vm:read');
    expect(v.permissions).not.toContain('vm:operate');
    const o = (await call('GET', '/v1/whoami', 'operator')).json() as { permissions: string[] };
    expect(o.permissions).toContain('vm:operate');
    expect(o.permissions).not.toContain('audit:read');
    expect((await api.app.inject({ method: 'GET', url: '/v1/whoami' })).statusCode).toBe(401);
  });
});

describe('GET /v1/stats', () => {
  it('answers with host counters and a sample per VM', async () => {
    const r = await call('GET', '/v1/stats', 'viewer');
    expect(r.statusCode).toBe(200);
    const s = r.json() as { at: string; host: { cpus: number; memTotalBytes: number }; vms: Array<{ name: string; stats: unknown }> };
    expect(s.host.cpus).toBeGreaterThan(0);
    expect(s.host.memTotalBytes).toBeGreaterThan(0);
    expect(s.vms).toEqual([expect.objectContaining({ name: 'ed', stats: null })]);
    expect((await call('GET', '/v1/stats?interval=1', 'viewer')).statusCode).toBe(400);
  });
  it('samples once for readers within a second', async () => {
    const [a, b] = await Promise.all([call('GET', '/v1/stats', 'viewer'), call('GET', '/v1/stats', 'admin')]);
    expect((a.json() as { at: string }).at).toBe((b.json() as { at: string }).at);
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await call('GET', '/v1/stats', 'viewer')).json().at).not.toBe((a.json() as { at: string }).at);
  });
});

describe('PUT /v1/vms/:name', () => {
  it('replaces the spec of a stopped VM, keeping its name and disks', async () => {
    const cur = (await call('GET', '/v1/vms/ed')).json() as { spec: Record<string, unknown> };
    const r = await call('PUT', '/v1/vms/ed', 'operator', { spec: { ...cur.spec, memory: '256Mi', description: 'edited' } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ spec: { memory: 256 * 1024 ** 2, description: 'edited' } });
    expect((await call('GET', '/v1/vms/ed')).json()).toMatchObject({ spec: { description: 'edited' } });
  });
  it('refuses a new name, changed disks, bad input and the viewer, changing nothing', async () => {
    const cur = (await call('GET', '/v1/vms/ed')).json() as { spec: Record<string, unknown> };
    cur.spec['memory'] = '256Mi'; // a bare number would be MiB
    const renamed = await call('PUT', '/v1/vms/ed', 'admin', { spec: { ...cur.spec, name: 'other' } });
    expect([renamed.statusCode, renamed.json().code]).toEqual([400, 'INVALID_BODY']);
    const disks = await call('PUT', '/v1/vms/ed', 'admin', { spec: { ...cur.spec, disks: [{ name: 'd1', size: '8Mi' }] } });
    expect([disks.statusCode, disks.json().details]).toEqual([400, [{ field: 'disks', message: 'cannot change in an edit' }]]);
    const bad = await call('PUT', '/v1/vms/ed', 'admin', { spec: { ...cur.spec, memory: 'lots' } });
    expect(bad.json().code).toBe('SPEC_INVALID');
    expect(bad.json().details).toEqual([expect.objectContaining({ field: 'memory' })]);
    expect((await call('PUT', '/v1/vms/ed', 'viewer', { spec: cur.spec })).statusCode).toBe(403);
    expect((await call('PUT', '/v1/vms/nope', 'admin', { spec: { ...cur.spec, name: 'nope' } })).statusCode).toBe(404);
    expect((await call('GET', '/v1/vms/ed')).json()).toEqual(expect.objectContaining({ spec: { ...cur.spec, memory: 256 * 1024 ** 2 } }));
  });
});

describe('serving the web UI', () => {
  it('serves the shell, typed and cached assets, and nothing outside the assets folder', async () => {
    const root = path.join(dir, 'web');
    await mkdir(path.join(root, 'assets'), { recursive: true });
    await writeFile(path.join(root, 'index.html'), '<!doctype html><title>t</title>');
    await writeFile(path.join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    await writeFile(path.join(dir, 'secret.txt'), 'no');
    const app = Fastify();
    uiRoutes(app, root);
    for (const url of ['/', '/vms/web', '/vms/web/edit', '/storage']) {
      const r = await app.inject({ url });
      expect([url, r.statusCode, r.headers['content-type'], r.headers['cache-control']]).toEqual([url, 200, 'text/html; charset=utf-8', 'no-cache']);
      expect(r.headers['content-security-policy']).toBe(UI_CSP);
    }
    const js = await app.inject({ url: '/assets/index-abc123.js' });
    expect([js.statusCode, js.headers['content-type'], js.headers['cache-control']]).toEqual([200, 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable']);
    expect([js.headers['content-encoding'], js.body]).toEqual([undefined, 'console.log(1)']);
    // The build's gzip copy goes to clients that accept gzip, and is never served by its own name.
    await writeFile(path.join(root, 'assets', 'index-abc123.js.gz'), gzipSync('console.log(1)'));
    const gz = await app.inject({ url: '/assets/index-abc123.js', headers: { 'accept-encoding': 'gzip, deflate' } });
    expect([gz.headers['content-encoding'], gz.headers['vary'], gunzipSync(gz.rawPayload).toString()]).toEqual(['gzip', 'accept-encoding', 'console.log(1)']);
    expect((await app.inject({ url: '/assets/index-abc123.js.gz' })).statusCode).toBe(404);
    for (const url of ['/assets/..%2Fsecret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt', '/assets/.hidden', '/assets/missing.js']) {
      expect([url, (await app.inject({ url })).statusCode]).toEqual([url, 404]);
    }
    await app.close();
  });
  it('says how to build the UI when dist/web is missing', async () => {
    const app = Fastify();
    uiRoutes(app, null);
    const r = await app.inject({ url: '/' });
    expect(r.statusCode).toBe(503);
    expect(r.body).toMatch(/npm run build/);
    await app.close();
  });
});
