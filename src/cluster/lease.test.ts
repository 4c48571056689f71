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

  it('is lost when the store stops answering for a TTL, and a regrant takes a new lease that renews again', async () => {
    let down = false;
    let granted = 0;
    const renewedWith: string[] = [];
    const kv = {
      grantLease: async (ttlSeconds: number) => {
        if (down) throw new Error('no quorum');
        return { id: String(++granted), ttlSeconds };
      },
      keepAliveOnce: async (id: string) => {
        if (down) throw new Error('no quorum');
        renewedWith.push(id);
        return 1;
      },
      revokeLease: async () => undefined,
    } as unknown as ClusterKv;
    const lost: string[] = [];
    const keeper = new LeaseKeeper({ kv, ttlSeconds: 1, onLost: (w) => lost.push(w) });
    await expect(keeper.regrant()).rejects.toThrow(/not lost/);
    await keeper.grant();
    down = true;
    for (let i = 0; i < 40 && !lost.length; i++) await new Promise((r) => setTimeout(r, 50));
    expect(lost).toEqual(['not renewed within its TTL of 1 s']);
    expect(keeper.alive).toBe(false);
    await expect(keeper.regrant()).rejects.toThrow(/no quorum/); // the store still does not answer: still lost
    expect(keeper.lost).toBeDefined();
    down = false;
    expect(await keeper.regrant()).toBe('2');
    expect(keeper.alive).toBe(true);
    expect(keeper.lost).toBeUndefined();
    await new Promise((r) => setTimeout(r, 800));
    expect(renewedWith.filter((id) => id === '2').length).toBeGreaterThanOrEqual(1);
    expect(keeper.alive).toBe(true);
    await keeper.stop();
  });

  it('abandoned (its fencing watchdog exited) while the store still renews it: lost at once, renewals stop, a regrant takes a new lease', async () => {
    let granted = 0;
    const renewedWith: string[] = [];
    const kv = {
      grantLease: async (ttlSeconds: number) => ({ id: String(++granted), ttlSeconds }),
      keepAliveOnce: async (id: string) => (renewedWith.push(id), 1),
      revokeLease: async () => undefined,
    } as unknown as ClusterKv;
    const lost: string[] = [];
    const renewed: number[] = [];
    const keeper = new LeaseKeeper({ kv, ttlSeconds: 1, onLost: (w) => lost.push(w), onRenewed: (u) => renewed.push(u) });
    await keeper.grant();
    await new Promise((r) => setTimeout(r, 400));
    keeper.abandon('the fencing watchdog exited');
    expect(lost).toEqual(['the fencing watchdog exited']);
    expect(keeper.alive).toBe(false);
    const before = { renewals: renewedWith.length, told: renewed.length };
    await new Promise((r) => setTimeout(r, 800));
    expect(renewedWith.length).toBeLessThanOrEqual(before.renewals + 1); // at most the one already under way
    expect(renewed.length).toBe(before.told); // the watchdog is not told the old lease lives on
    keeper.abandon('again'); // once lost, stays lost with its first reason
    expect(lost).toEqual(['the fencing watchdog exited']);
    expect(await keeper.regrant()).toBe('2');
    expect(keeper.alive).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(renewedWith.at(-1)).toBe('2');
    await keeper.stop();
  });
});
