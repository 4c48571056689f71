/**
 * Leases, host membership and leader election on a real 3-member etcd
 * (scripts/etcd.sh on 127.0.0.1): a crashed agent's host key goes after its
 * TTL; exactly one of three candidates leads; the next takes over when the
 * leader stops renewing; a deposed leader cannot write; killing etcd's own
 * leader during an election still ends with one leader; losing quorum makes
 * writes and reads fail with STORE_UNAVAILABLE and all recovers after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Election, HostAgent, LeaseKeeper, currentLeader, listHosts } from '../src/cluster/index.js';
import { isPolyvisorError, newUuid, timeoutSignal, waitFor } from '../src/shared/index.js';
import { EtcdKv, openEtcdStore } from '../src/store/etcd/index.js';
import { startEtcd, type TestEtcd } from './helpers/etcd.js';
import { limit } from './helpers/limits.js';

const TTL = 3;
let etcd: TestEtcd;
const clients: EtcdKv[] = [];
const kv = (timeoutMs = 3000): EtcdKv => {
  const c = new EtcdKv({ endpoints: etcd.endpoints, timeoutMs });
  clients.push(c);
  return c;
};
const wait = <T>(what: string, check: () => T | undefined | Promise<T | undefined>) =>
  waitFor(what, check, { signal: timeoutSignal(limit('state')), intervalMs: 100 });
const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isPolyvisorError(e) ? e.code : e));

beforeAll(async () => {
  etcd = await startEtcd(3, 'etcd-cluster');
});
afterAll(async () => {
  for (const c of clients) await c.close();
  etcd?.stop();
});

async function candidates(n: number, prefix: string, ttlSeconds = TTL) {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const c = kv();
      const lease = new LeaseKeeper({ kv: c, ttlSeconds });
      await lease.grant();
      return { name: `host-${i}`, lease, election: new Election({ kv: c, name: 'scheduler', candidate: `host-${i}`, lease, prefix }) };
    }),
  );
}

describe('host membership', () => {
  it('publishes a host under its lease; the record goes after the TTL when the agent stops renewing, at once when it leaves', async () => {
    const prefix = `/pv-m-${newUuid()}/`;
    const cap = { cpus: 8, memoryBytes: 16 * 1024 ** 3, diskBytes: 100 * 1024 ** 3 };
    const a = new HostAgent({ kv: kv(), host: { name: 'a', state: 'ready', capacity: cap, facts: { accel: 'tcg' } }, ttlSeconds: TTL, prefix });
    const b = new HostAgent({ kv: kv(), host: { name: 'b', state: 'ready', capacity: cap, facts: {} }, ttlSeconds: TTL, prefix });
    await a.join();
    await b.join();
    const reader = kv();
    const hosts = await listHosts(reader, prefix);
    expect(hosts.map((h) => [h.name, h.state, h.lease === a.lease.id || h.lease === b.lease.id])).toEqual([['a', 'ready', true], ['b', 'ready', true]]);
    expect(hosts[0]).toMatchObject({ capacity: cap, facts: { accel: 'tcg' } });

    // The agents keep their leases alive past several TTLs.
    await new Promise((r) => setTimeout(r, 2 * TTL * 1000));
    expect((await listHosts(reader, prefix)).map((h) => h.name)).toEqual(['a', 'b']);

    await b.setState('cordoned');
    expect((await listHosts(reader, prefix)).find((h) => h.name === 'b')?.state).toBe('cordoned');

    await a.crash();
    const t0 = Date.now();
    await wait('host a to disappear', async () => ((await listHosts(reader, prefix)).some((h) => h.name === 'a') ? undefined : true));
    const gone = Date.now() - t0;
    console.log(`host key gone ${gone} ms after the agent stopped renewing (TTL ${TTL} s)`);
    expect((await listHosts(reader, prefix)).map((h) => h.name)).toEqual(['b']);

    await b.leave();
    expect(await listHosts(reader, prefix)).toEqual([]);
  });
});

/** The first of `wins` to name a winner; rejects (with why each dropped out) when none does. */
function firstWin(wins: Array<Promise<string | undefined>>, dropped: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let left = wins.length;
    for (const w of wins) {
      void w.then((name) => {
        if (name !== undefined) resolve(name);
        else if (--left === 0) reject(new Error(`no candidate won: ${dropped.join('; ')}`));
      });
    }
  });
}

describe('leader election', () => {
  it('elects exactly one of three candidates; only its decisions are written', async () => {
    const prefix = `/pv-e-${newUuid()}/`;
    const cs = await candidates(3, prefix);
    const ctl = new AbortController();
    const wins = cs.map((c) => c.election.campaign(ctl.signal).then(() => c.name, () => undefined));
    const first = await Promise.race(wins);
    await new Promise((r) => setTimeout(r, 500));
    expect(cs.filter((c) => c.election.isLeader).map((c) => c.name)).toEqual([first]);
    expect((await currentLeader(kv(), 'scheduler', prefix))?.candidate).toBe(first);

    const leader = cs.find((c) => c.name === first)!;
    const follower = cs.find((c) => c.name !== first)!;
    await leader.election.decide([{ put: `${prefix}decision/1`, value: leader.name }]);
    expect(await codeOf(follower.election.decide([{ put: `${prefix}decision/1`, value: follower.name }]))).toBe('CLUSTER_NOT_LEADER');
    expect((await kv().get(`${prefix}decision/1`))?.value).toBe(first);

    ctl.abort();
    await Promise.all(wins);
    for (const c of cs) await c.lease.revoke();
  });

  it('fails over when the leader stops renewing its lease; the deposed leader cannot write', async () => {
    const prefix = `/pv-f-${newUuid()}/`;
    const cs = await candidates(3, prefix);
    const ctl = new AbortController();
    const wins = cs.map((c) => c.election.campaign(ctl.signal).then(() => c.name, () => undefined));
    const first = await Promise.race(wins);
    const old = cs.find((c) => c.name === first)!;
    const term = old.election.leadership!;

    await old.lease.stop(); // a hung agent: no more renewals
    const second = await Promise.race(wins.filter((_, i) => cs[i]!.name !== first));
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(cs.filter((c) => c.election.isLeader).map((c) => c.name)).toEqual([second]);
    expect((await currentLeader(kv(), 'scheduler', prefix))?.candidate).toBe(second);

    // The deposed leader's write is refused by the store itself (its term's key is gone), not only by its own view.
    const raw = await kv().txn([{ key: term.key, target: 'create', op: '=', value: term.revision }], [{ put: `${prefix}decision/x`, value: 'old' }]);
    expect(raw.succeeded).toBe(false);
    expect(await codeOf(old.election.decide([{ put: `${prefix}decision/x`, value: 'old' }]))).toBe('CLUSTER_NOT_LEADER');
    expect(await kv().get(`${prefix}decision/x`)).toBeUndefined();

    ctl.abort();
    await Promise.all(wins);
    for (const c of cs.filter((x) => x !== old)) await c.lease.revoke();
  });

  it('still ends with exactly one leader when the etcd leader member is killed during the election', async () => {
    const prefix = `/pv-k-${newUuid()}/`;
    const raftLeader = etcd.leader();
    // Leases longer than etcd's own failover: with 3 s, all three were seen to go unrenewed while the two
    // members left elected a leader (CI, and 1 run in 3 here), and then no one may lead, rightly.
    const cs = await candidates(3, prefix, 10);
    const ctl = new AbortController();
    // A candidate whose lease could not be renewed through etcd's own leader change drops out (its campaign ends
    // with the reason): the race is between the campaigns that win.
    const dropped: string[] = [];
    const wins = cs.map((c) => c.election.campaign(ctl.signal).then(() => c.name, (e: unknown) => {
      dropped.push(`${c.name}: ${(e as { code?: string }).code ?? ''} ${(e as Error).message}`);
      return undefined;
    }));
    etcd.kill(raftLeader);
    try {
      const first = await firstWin(wins, dropped);
      // The current leader resigns while etcd elects its own new leader: the next candidate takes over.
      await cs.find((c) => c.name === first)!.election.resign();
      const second = await firstWin(wins.filter((_, i) => cs[i]!.name !== first), dropped);
      await new Promise((r) => setTimeout(r, 1000));
      expect(cs.filter((c) => c.election.isLeader).map((c) => c.name)).toEqual([second]);
      expect((await currentLeader(kv(), 'scheduler', prefix))?.candidate).toBe(second);
      await cs.find((c) => c.name === second)!.election.decide([{ put: `${prefix}decision/k`, value: second! }]);
    } finally {
      if (dropped.length) console.log(`dropped out of the election while etcd changed leader: ${dropped.join('; ')}`);
      etcd.restart(raftLeader);
      ctl.abort();
      await Promise.all(wins);
      for (const c of cs) await c.lease.revoke().catch(() => undefined);
    }
  });
});

describe('quorum loss', () => {
  it('fails writes and reads with STORE_UNAVAILABLE within the timeout while 2 of 3 members are down, and recovers when they return', async () => {
    const store = openEtcdStore({ endpoints: etcd.endpoints, prefix: `/pv-q-${newUuid()}/`, timeoutMs: 2000 });
    try {
      await store.setMeta('k', 'before');
      etcd.kill(1);
      etcd.kill(2);
      const err = await store.setMeta('k', 'during').catch((e: unknown) => e);
      expect(isPolyvisorError(err) && err.code).toBe('STORE_UNAVAILABLE');
      expect(await codeOf(store.getMeta('k'))).toBe('STORE_UNAVAILABLE');
      expect(await codeOf(store.listVms())).toBe('STORE_UNAVAILABLE');
      etcd.restart(1);
      etcd.restart(2);
      await wait('etcd to answer again', async () => ((await codeOf(store.setMeta('k2', 'after'))) === 'ok' ? true : undefined));
      expect(await store.getMeta('k2')).toBe('after');
      // The write that timed out may have been applied once quorum returned (docs/cluster-store.md).
      expect(['before', 'during']).toContain(await store.getMeta('k'));
    } finally {
      etcd.restart(1);
      etcd.restart(2);
      await store.close();
    }
  });
});
