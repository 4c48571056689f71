/**
 * The HA manager's watch-fed VM records (src/cluster/vm-record-cache.ts) on a
 * real 1-member etcd (scripts/etcd.sh), no QEMU: a paged first read at one
 * revision, later writes seen through the watch without reading everything
 * again, a full read again once the watch ends (etcd restarted), and a
 * manager given no record source deciding a restart from the cache. And the
 * transport: open watches (a thousand simulated hosts' executors) do not take
 * the sockets its calls (lease renewals) need.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Election, HaManager, HostAgent, VmRecordCache, clusterKeys, type HaIntent } from '../src/cluster/index.js';
import { newUuid, silentLogger, sleep } from '../src/shared/index.js';
import { validateSpec } from '../src/spec/index.js';
import { openEtcdStore, type EtcdStore } from '../src/store/etcd/index.js';
import { startEtcd, type TestEtcd } from './helpers/etcd.js';

let etcd: TestEtcd;
let store: EtcdStore;
const prefix = `/pv-cache-${newUuid()}/`;
const spec = (name: string, ha = false) => validateSpec({ name, memory: '64Mi', disks: [{ name: 'root', size: '1Gi' }], ...(ha ? { ha: true } : {}) });
const create = (name: string, host: string, ha = false) =>
  store.createVm({ id: newUuid(), name, spec: spec(name, ha), state: 'running', stateReason: 'test', host, runtime: null });

/** Polls `fn` until it holds (the watch delivers asynchronously), at most 10 s. */
async function until(what: string, fn: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`not within 10 s: ${what}`);
    await sleep(50);
  }
}

beforeAll(async () => {
  etcd = await startEtcd(1, 'ha-vm-cache');
  store = openEtcdStore({ endpoints: etcd.endpoints, prefix });
});
afterAll(async () => {
  await store?.close();
  etcd?.stop();
});

describe('VM record cache on etcd', () => {
  it('reads every record in pages at one revision, then follows puts and deletes through its watch', async () => {
    for (let i = 0; i < 7; i++) await create(`c${i}`, 'h1');
    const cache = new VmRecordCache({ kv: store.kv, vmsKey: clusterKeys(prefix).vms, log: silentLogger, pageSize: 2 });
    try {
      const first = await cache.list();
      expect(first.map((r) => r.name).sort()).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
      expect(cache.loads).toBe(1);
      await store.updateVm('c3', { host: 'h2' });
      await store.deleteVm('c5');
      await create('c7', 'h2');
      const names = async () => (await cache.list()).map((r) => `${r.name}@${r.host}`).sort().join(' ');
      await until('the cache shows the move, the delete and the new VM', async () => (await names()) === 'c0@h1 c1@h1 c2@h1 c3@h2 c4@h1 c6@h1 c7@h2');
      expect((await cache.list()).find((r) => r.name === 'c3')?.generation).toBe(2);
      expect(cache.loads).toBe(1); // no full read: the watch carried every change
    } finally {
      cache.close();
    }
  });

  it('reads everything again once its watch ends (etcd restarted), with what changed meanwhile', async () => {
    const cache = new VmRecordCache({ kv: store.kv, vmsKey: clusterKeys(prefix).vms, log: silentLogger });
    try {
      await cache.list();
      const loads = cache.loads;
      etcd.kill(0);
      etcd.restart(0);
      await until('etcd answers again', async () => store.getMeta('x').then(() => true, () => false));
      await create('after-restart', 'h3');
      await until('the cache has the VM written after the restart', async () => {
        const recs = await cache.list().catch(() => []);
        return recs.some((r) => r.name === 'after-restart');
      });
      expect(cache.loads).toBeGreaterThan(loads);
    } finally {
      cache.close();
    }
  }, 60_000);

  it('lets an HA manager with no record source decide a restart from the cache', async () => {
    const keys = clusterKeys(prefix);
    const capacity = { cpus: 8, memoryBytes: 8 * 1024 ** 3, diskBytes: 100 * 1024 ** 3 };
    const a = new HostAgent({ kv: store.kv, host: { name: 'ha1', state: 'ready', capacity, facts: {} }, ttlSeconds: 5, prefix });
    const b = new HostAgent({ kv: store.kv, host: { name: 'ha2', state: 'ready', capacity, facts: {} }, ttlSeconds: 5, prefix });
    await a.join();
    await b.join();
    await create('guarded', 'ha1', true);
    const election = new Election({ kv: store.kv, name: 'ha-cache-test', candidate: 'ha2', lease: b.lease, prefix });
    const manager = new HaManager({ kv: store.kv, election, log: silentLogger, prefix, marginMs: 0 });
    const ctl = new AbortController();
    const run = manager.run(ctl.signal);
    try {
      await until('the manager leads and has read the records', async () => (manager.cache?.size ?? 0) > 0);
      await a.leave();
      await until('a restart intent for the HA VM on the other host', async () => (await store.kv.get(keys.haRestart('guarded'))) !== undefined);
      const intent = JSON.parse((await store.kv.get(keys.haRestart('guarded')))!.value) as HaIntent;
      expect(intent).toMatchObject({ vm: 'guarded', from: 'ha1', to: 'ha2', generation: 1 });
      expect(manager.cache?.loads).toBe(1);
    } finally {
      ctl.abort();
      await run;
      await b.leave();
    }
  }, 60_000);
});

describe('etcd transport with many open watches', () => {
  it('still answers calls while more watches are open than its 64 call sockets', async () => {
    const s = openEtcdStore({ endpoints: etcd.endpoints, prefix, timeoutMs: 4_000 });
    const watches = Array.from({ length: 100 }, (_, i) => s.kv.watch(`${prefix}watched/${i}`, {}, () => undefined));
    try {
      const lease = await s.kv.grantLease(10);
      expect(await s.kv.keepAliveOnce(lease.id)).toBeGreaterThan(0);
      await s.kv.put(`${prefix}after-watches`, 'yes');
      expect((await s.kv.get(`${prefix}after-watches`))?.value).toBe('yes');
      await s.kv.revokeLease(lease.id);
    } finally {
      for (const w of watches) w.close();
      await s.close();
    }
  }, 30_000);
});
