/** LeaseKeeper renews with any TTL: a TTL whose third is not a whole number of ms (1 s, 10 s) once made every renewal throw. */
import { describe, expect, it } from 'vitest';
import type { ClusterKv } from '../store/index.js';
import { LeaseKeeper } from './lease.js';

describe('LeaseKeeper', () => {
  it('renews a 1 s lease every third of a second and keeps it alive', async () => {
    let renewals = 0;
    const kv = {
      grantLease: async (ttlSeconds: number) => ({ id: '7', ttlSeconds }),
      keepAliveOnce: async () => (renewals++, 1),
      revokeLease: async () => undefined,
    } as unknown as ClusterKv;
    const lost: string[] = [];
    const keeper = new LeaseKeeper({ kv, ttlSeconds: 1, onLost: (w) => lost.push(w) });
    await keeper.grant();
    await new Promise((r) => setTimeout(r, 1500));
    expect(lost).toEqual([]);
    expect(keeper.alive).toBe(true);
    expect(renewals).toBeGreaterThanOrEqual(3);
    await keeper.stop();
  });
});
