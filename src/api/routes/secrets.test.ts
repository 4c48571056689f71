/** /v1/secrets in-process: admin only, values in and never out (answers, errors, audit log, list). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../spec/index.js';
import { openStubStack, type StubStack } from '../../../test/helpers/stub-stack.js';

const PLANTED = 'planted-VALUE-7c1e-do-not-leak';
let stack: StubStack;
const tokens: Partial<Record<Role, string>> = {};

beforeAll(async () => {
  stack = await openStubStack('secrets-api', { listener: 'tcp', rateLimitPerSecond: 10_000 });
  for (const role of ['admin', 'operator', 'viewer'] as const) tokens[role] = (await stack.platform.tokens.create(`t-${role}`, role)).token;
});
afterAll(() => stack?.close());

const call = (method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, role?: Role, body?: unknown) =>
  stack.api.app.inject({ method, url, headers: role ? { authorization: `Bearer ${tokens[role]!}` } : {}, ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}) });

describe('/v1/secrets', () => {
  it('admin stores, lists (names only), replaces and removes a secret', async () => {
    const put = await call('PUT', '/v1/secrets/db-pass', 'admin', { value: PLANTED });
    expect(put.statusCode).toBe(201);
    expect(put.body).not.toContain(PLANTED);
    expect(Object.keys(put.json() as object).sort()).toEqual(['createdAt', 'name', 'updatedAt']);
    expect((await call('PUT', '/v1/secrets/db-pass', 'admin', { value: `${PLANTED}-2` })).statusCode).toBe(200);
    const list = await call('GET', '/v1/secrets', 'admin');
    expect(list.statusCode).toBe(200);
    expect((list.json() as Array<{ name: string }>).map((s) => s.name)).toEqual(['db-pass']);
    expect(list.body).not.toContain(PLANTED);
    expect(await stack.secrets.reveal('db-pass')).toBe(`${PLANTED}-2`);
    const rot = await call('POST', '/v1/secrets/rotate-key', 'admin');
    expect(rot.statusCode).toBe(200);
    expect(rot.json()).toMatchObject({ secrets: 1 });
    expect(await stack.secrets.reveal('db-pass')).toBe(`${PLANTED}-2`);
    expect((await call('DELETE', '/v1/secrets/db-pass', 'admin')).statusCode).toBe(204);
    const gone = await call('DELETE', '/v1/secrets/db-pass', 'admin');
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ code: 'SECRET_NOT_FOUND' });
  });

  it('operator and viewer are refused on every secrets route, anonymous gets 401; nothing changes', async () => {
    await stack.secrets.set('kept', PLANTED);
    const routes = [['GET', '/v1/secrets'], ['PUT', '/v1/secrets/kept'], ['DELETE', '/v1/secrets/kept'], ['POST', '/v1/secrets/rotate-key']] as const;
    for (const [m, u] of routes) {
      const body = m === 'PUT' ? { value: 'x' } : undefined;
      expect((await call(m, u, undefined, body)).statusCode, `${m} ${u}`).toBe(401);
      for (const role of ['operator', 'viewer'] as const) {
        const r = await call(m, u, role, body);
        expect(r.statusCode, `${role} ${m} ${u}`).toBe(403);
        expect(r.body).not.toContain(PLANTED);
      }
    }
    expect(await stack.secrets.reveal('kept')).toBe(PLANTED);
  });

  it('bad bodies and names are catalogue errors that do not echo the value', async () => {
    const big = await call('PUT', '/v1/secrets/big', 'admin', { value: `${PLANTED}${'x'.repeat(64 * 1024)}` });
    expect(big.statusCode).toBe(400);
    expect(big.body).not.toContain(PLANTED);
    const extra = await call('PUT', '/v1/secrets/x', 'admin', { value: PLANTED, other: PLANTED });
    expect(extra.statusCode).toBe(400);
    expect(extra.body).not.toContain(PLANTED);
    expect((await call('PUT', '/v1/secrets/bad%20name', 'admin', { value: PLANTED })).json()).toMatchObject({ code: 'INVALID_NAME' });
    const broken = await stack.api.app.inject({ method: 'PUT', url: '/v1/secrets/x', headers: { authorization: `Bearer ${tokens.admin!}`, 'content-type': 'application/json' }, payload: `{"value": "${PLANTED}` });
    expect(broken.statusCode).toBe(400);
    expect(broken.body).not.toContain(PLANTED);
    const wrongType = await call('PUT', '/v1/secrets/x', 'admin', { value: { nested: PLANTED } });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.body).not.toContain(PLANTED);
  });

  it('no value in the audit log or the database file', async () => {
    await call('PUT', '/v1/secrets/audited', 'admin', { value: PLANTED });
    const audit = await stack.store.listAudit({ limit: 1000 });
    expect(audit.some((e) => e.action === 'PUT /v1/secrets/:name' && e.resource === 'audited')).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(PLANTED);
    for (const f of ['state.db', 'state.db-wal', 'secrets.json']) {
      const bytes = await readFile(path.join(stack.dir, f)).catch(() => Buffer.alloc(0));
      expect(bytes.includes(Buffer.from(PLANTED)), f).toBe(false);
    }
  });
});
