/**
 * The EtcdStore against a real 1-member etcd (Debian's etcd-server, started by
 * scripts/etcd.sh): the shared Store suite, and STORE_UNAVAILABLE when etcd
 * cannot answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPolyvisorError, newUuid } from '../src/shared/index.js';
import { openEtcdStore, type EtcdStore } from '../src/store/etcd/index.js';
import { startEtcd, type TestEtcd } from './helpers/etcd.js';
import { storeConformance } from './helpers/store-conformance.js';

let etcd: TestEtcd;
beforeAll(async () => {
  etcd = await startEtcd(1, 'etcd-store');
});
afterAll(() => etcd?.stop());

describe('etcd backend', () => {
  let prefix = '';
  const opened: EtcdStore[] = [];
  storeConformance('etcd', {
    async open() {
      prefix = `/pvtest-${newUuid()}/`;
      const s = openEtcdStore({ endpoints: etcd.endpoints, prefix });
      opened.push(s);
      return s;
    },
    async another() {
      const s = openEtcdStore({ endpoints: etcd.endpoints, prefix });
      opened.push(s);
      return s;
    },
    async cleanup() {
      const s = openEtcdStore({ endpoints: etcd.endpoints, prefix });
      await s.kv.delete(prefix, { prefix: true });
      await s.close();
      for (const o of opened.splice(0)) await o.close();
    },
  });
});

describe('etcd store: unavailable', () => {
  const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isPolyvisorError(e) ? e.code : e));

  it('keeps stores under different prefixes apart', async () => {
    const a = openEtcdStore({ endpoints: etcd.endpoints, prefix: `/pv-a-${newUuid()}` });
    const b = openEtcdStore({ endpoints: etcd.endpoints, prefix: `/pv-b-${newUuid()}` });
    try {
      await a.setMeta('k', 'a');
      expect(await b.getMeta('k')).toBeUndefined();
      expect(await a.getMeta('k')).toBe('a');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('fails over to the next endpoint when the first refuses connections', async () => {
    const s = openEtcdStore({ endpoints: ['http://127.0.0.1:1', ...etcd.endpoints], prefix: `/pv-f-${newUuid()}` });
    try {
      await s.setMeta('k', 'v');
      expect(await s.getMeta('k')).toBe('v');
    } finally {
      await s.close();
    }
  });

  it('answers STORE_UNAVAILABLE, with the endpoints named, when no member listens', async () => {
    const s = openEtcdStore({ endpoints: ['http://127.0.0.1:1'], timeoutMs: 2000 });
    try {
      const err = await s.getVm('web').catch((e: unknown) => e);
      expect(isPolyvisorError(err) && err.code).toBe('STORE_UNAVAILABLE');
      expect((err as Error).message).toContain('127.0.0.1:1');
    } finally {
      await s.close();
    }
  });

  it('answers STORE_UNAVAILABLE within the timeout when the member hangs (SIGSTOP), and works again after SIGCONT', async () => {
    const s = openEtcdStore({ endpoints: etcd.endpoints, prefix: `/pv-h-${newUuid()}`, timeoutMs: 1500 });
    const pid = etcd.pid(0)!;
    try {
      await s.setMeta('k', 'before');
      process.kill(pid, 'SIGSTOP');
      const err = await s.setMeta('k', 'during').catch((e: unknown) => e);
      // The write was cut off by the client's own deadline (it did not hang, and no other failure stood in).
      expect(isPolyvisorError(err) && err.code).toBe('STORE_UNAVAILABLE');
      expect((err as Error).message).toContain('within 1500 ms');
      expect(await codeOf(s.getMeta('k'))).toBe('STORE_UNAVAILABLE');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    try {
      await s.setMeta('k2', 'after');
      expect(await s.getMeta('k2')).toBe('after');
      // The timed-out write's outcome is unknown (the frozen member had it in its socket and may apply it on
      // waking): the old value or the new one, never anything else. docs/cluster-store.md says so.
      expect(['before', 'during']).toContain(await s.getMeta('k'));
    } finally {
      await s.close();
    }
  });

  it('rejects an endpoint that is not a URL with CONFIG_INVALID', () => {
    const err = (() => {
      try {
        openEtcdStore({ endpoints: ['not a url'] });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isPolyvisorError(err) && err.code).toBe('CONFIG_INVALID');
  });
});
