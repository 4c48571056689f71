/**
 * HostAgent.addFacts when the lease went away between join and the daemon's
 * listen (a busy host missing its TTL; seen in a loaded test run, where the
 * daemon then exited on etcd's "requested lease not found"): the facts stay in
 * the record the rejoin puts again, and no error reaches the daemon's start.
 * Any other failure of the put is still an error. A scripted ClusterKv: only
 * the calls the agent makes.
 */
import { describe, expect, it } from 'vitest';
import type { ClusterKv } from '../store/index.js';
import { HostAgent } from './membership.js';

function kv(putError: () => Error | undefined): ClusterKv & { puts: string[] } {
  const puts: string[] = [];
  return {
    puts,
    grantLease: async (ttlSeconds: number) => ({ id: '7', ttlSeconds }),
    keepAliveOnce: async () => 10,
    revokeLease: async () => undefined,
    put: async (_key: string, value: string) => {
      const err = putError();
      if (err) throw err;
      puts.push(value);
      return 1;
    },
  } as unknown as ClusterKv & { puts: string[] };
}

const host = { name: 'h1', state: 'ready' as const, capacity: { cpus: 2, memoryBytes: 2 ** 30, diskBytes: 2 ** 30 }, facts: {} };

describe('HostAgent.addFacts', () => {
  it('a lease etcd no longer has: the facts are kept for the rejoin, no error', async () => {
    let gone = false;
    const store = kv(() => (gone ? new Error('etcdserver: requested lease not found') : undefined));
    const agent = new HostAgent({ kv: store, host, ttlSeconds: 30 });
    await agent.join();
    gone = true;
    await expect(agent.addFacts({ apiUrl: 'https://10.0.0.1:8443' })).resolves.toBeUndefined();
    expect(agent.published.facts['apiUrl']).toBe('https://10.0.0.1:8443');
    await agent.crash();
  });

  it('other failures of the put are still errors', async () => {
    let fail = false;
    const store = kv(() => (fail ? new Error('STORE_UNAVAILABLE: no quorum') : undefined));
    const agent = new HostAgent({ kv: store, host, ttlSeconds: 30 });
    await agent.join();
    fail = true;
    await expect(agent.addFacts({ apiUrl: 'x' })).rejects.toThrow('no quorum');
    fail = false;
    await agent.addFacts({ more: 'y' });
    expect(JSON.parse(store.puts.at(-1)!).facts).toEqual({ apiUrl: 'x', more: 'y' });
    await agent.crash();
  });
});
