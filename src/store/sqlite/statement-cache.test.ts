import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newUuid } from '../../shared/index.js';
import { validateSpec } from '../../spec/index.js';
import { openDatabase, statementCache } from './database.js';
import { openSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pv-stmt-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('statementCache', () => {
  it('prepares a text once, binds fresh values each call, and starts over past its size', () => {
    const db = openDatabase(path.join(dir, 'a.db'));
    db.exec('CREATE TABLE t (k TEXT, v INTEGER)');
    db.prepare('INSERT INTO t VALUES (?, ?), (?, ?)').run('a', 1, 'b', 2);
    const prepared = statementCache(db, 2);
    const q = 'SELECT v FROM t WHERE k = ?';
    const first = prepared<[string], { v: number }>(q);
    expect(prepared(q)).toBe(first);
    expect(prepared<[string], { v: number }>(q).all('a')).toEqual([{ v: 1 }]);
    expect(prepared<[string], { v: number }>(q).all('b')).toEqual([{ v: 2 }]);
    prepared('SELECT 1');
    prepared('SELECT 2'); // a third text: the cache starts over
    expect(prepared(q)).not.toBe(first);
    db.close();
  });

  it('listVms and listAudit answer each filter right when their statements are reused', async () => {
    const store = openSqliteStore(path.join(dir, 'b.db'));
    const vm = (name: string, app: string) => ({ id: newUuid(), name, spec: validateSpec({ name, labels: { app }, disks: [{ name: 'root', size: '1Gi' }] }), state: 'created' as const, stateReason: '', host: 'h', runtime: null });
    await store.createVm(vm('a', 'web'));
    await store.createVm(vm('b', 'db'));
    for (const app of ['web', 'db', 'web']) expect((await store.listVms({ labels: { app } })).map((v) => v.name)).toEqual([app === 'web' ? 'a' : 'b']);
    expect((await store.listVms()).map((v) => v.name)).toEqual(['a', 'b']);
    for (let i = 0; i < 5; i++) await store.appendAudit({ at: new Date().toISOString(), actor: i % 2 ? 'x' : 'y', action: 'a', resource: null, outcome: 'ok', status: 200, detail: {} } as never);
    expect(await store.listAudit({ limit: 2 })).toHaveLength(2);
    expect(await store.listAudit({ limit: 4 })).toHaveLength(4);
    expect((await store.listAudit({ actor: 'x' })).map((e) => e.actor)).toEqual(['x', 'x']);
    expect(await store.listAudit({ actor: 'y', limit: 1 })).toHaveLength(1);
    await store.close();
  });
});
