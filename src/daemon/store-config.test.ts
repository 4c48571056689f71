import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { loadConfig } from './config.js';

function withFile(doc: unknown) {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pv-storecfg-')), 'c.json');
  writeFileSync(file, JSON.stringify(doc));
  return loadConfig({ file, env: {} });
}

describe('config: store', () => {
  it('defaults to the embedded SQLite store', () => {
    expect(loadConfig({ env: {} }).store).toEqual({ kind: 'sqlite' });
  });

  it('takes an etcd store with endpoints, prefix, timeout and TLS files', () => {
    const store = { kind: 'etcd', endpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'], prefix: '/pv/prod/', timeoutMs: 3000, tls: { ca: '/etc/pv/ca.pem', cert: '/etc/pv/c.pem', key: '/etc/pv/k.pem' } };
    expect(withFile({ store }).store).toEqual(store);
  });

  it.each([
    [{ kind: 'etcd', endpoints: [] }, 'store.endpoints'],
    [{ kind: 'etcd', endpoints: ['127.0.0.1:2379'] }, 'store.endpoints.0'],
    [{ kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], tls: { ca: 'ca.pem' } }, 'store.tls.ca'],
    [{ kind: 'consul' }, 'store.kind'],
    [{ kind: 'sqlite', endpoints: ['http://127.0.0.1:2379'] }, 'store'],
  ])('refuses %j naming the key', (store, key) => {
    let err: unknown;
    try {
      withFile({ store });
    } catch (e) {
      err = e;
    }
    expect(isPolyvisorError(err) && err.code).toBe('CONFIG_INVALID');
    expect((err as Error).message).toContain(key);
  });
});
