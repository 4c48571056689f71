import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../../shared/index.js';
import { openSqliteStore, type SqliteStore } from './index.js';

let dir: string;
let store: SqliteStore;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-tokens-'));
  store = openSqliteStore(path.join(dir, 'state.db'));
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isPolyvisorError(e) ? e.code : e));

describe('sqlite token and audit tables', () => {
  it('creates, finds by hash, lists, touches and deletes tokens', async () => {
    await store.createToken({ name: 'ci', role: 'operator', hash: 'a'.repeat(64), prefix: 'pvt_abcd' });
    expect(await codeOf(store.createToken({ name: 'ci', role: 'viewer', hash: 'b'.repeat(64), prefix: 'x' }))).toBe('TOKEN_EXISTS');
    expect((await store.findTokenByHash('a'.repeat(64)))?.name).toBe('ci');
    expect(await store.findTokenByHash('c'.repeat(64))).toBeUndefined();
    await store.touchToken('ci', '2030-01-01T00:00:00.000Z');
    expect(await store.listTokens()).toEqual([expect.objectContaining({ name: 'ci', role: 'operator', lastUsedAt: '2030-01-01T00:00:00.000Z' })]);
    await store.deleteToken('ci');
    expect(await codeOf(store.deleteToken('ci'))).toBe('TOKEN_NOT_FOUND');
    expect(await store.listTokens()).toEqual([]);
  });

  it('appends audit entries and lists them newest first with filters', async () => {
    for (let i = 0; i < 5; i++) {
      await store.appendAudit({ at: `t${i}`, actor: i % 2 ? 'ci' : 'local', action: 'POST /v1/vms', resource: `vm${i}`, outcome: 'ok', status: 201, detail: { i } });
    }
    const all = await store.listAudit();
    expect(all.map((e) => e.resource)).toEqual(['vm4', 'vm3', 'vm2', 'vm1', 'vm0']);
    expect((await store.listAudit({ actor: 'ci' })).map((e) => e.detail)).toEqual([{ i: 3 }, { i: 1 }]);
    expect((await store.listAudit({ limit: 2, before: all[1]!.id })).map((e) => e.resource)).toEqual(['vm2', 'vm1']);
    expect((await store.listAudit({ resource: 'vm0' }))[0]).toMatchObject({ actor: 'local', status: 201, outcome: 'ok' });
  });
});
