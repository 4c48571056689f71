/**
 * The stack lock in the store, on a real SQLite file opened twice (two
 * daemons sharing one store): the second taker is refused naming the
 * holder; a released lock, an expired one (its holder stopped renewing) and
 * one whose holder's process on this host is gone are taken; a taken-over
 * holder learns it lost the lock.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/index.js';
import { StackLocks } from './stack-lock.js';

let dir: string;
let a: SqliteStore;
let b: SqliteStore;
let clock = Date.parse('2026-12-05T07:00:00Z');
const now = (): number => clock;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-stack-lock-'));
  a = openSqliteStore(path.join(dir, 'store.db'));
  b = openSqliteStore(path.join(dir, 'store.db'));
  clock = Date.parse('2026-12-05T07:00:00Z');
});
afterEach(async () => {
  a.close();
  b.close();
  await rm(dir, { recursive: true, force: true });
});

const busy = async (p: Promise<unknown>): Promise<string> => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(isPolyvisorError(err, 'STACK_BUSY'), String(err)).toBe(true);
  return (err as Error).message;
};

describe('stack lock in the store', () => {
  it('a second daemon on the same store is refused, naming the holder; after release it takes the lock', async () => {
    const one = new StackLocks(a, { now, host: 'host-a', pid: 111, alive: () => true });
    const two = new StackLocks(b, { now, host: 'host-b', pid: 222, alive: () => true });
    const held = await one.acquire('shop', 'apply');
    expect(await busy(two.acquire('shop', 'destroy'))).toBe(
      'stack shop is locked by the daemon on host-a (pid 111), apply since 2026-12-05T07:00:00.000Z (the lock expires 2026-12-05T07:01:00.000Z unless renewed)');
    expect(await busy(one.acquire('shop', 'apply'))).toContain('host-a (pid 111)'); // the same daemon too
    expect((await two.holder('shop'))?.host).toBe('host-a');
    expect(await two.holder('other')).toBeUndefined();
    const other = await two.acquire('other', 'apply'); // another stack is independent
    await other.release();
    await held.release();
    expect(await two.holder('shop')).toBeUndefined();
    const again = await two.acquire('shop', 'destroy');
    expect(again.holder).toMatchObject({ host: 'host-b', pid: 222, what: 'destroy' });
    expect(await busy(one.acquire('shop', 'apply'))).toContain('host-b (pid 222), destroy');
    await again.release();
  });

  it('a holder that stopped renewing (a daemon killed elsewhere) is taken over after the TTL, and learns it lost the lock', async () => {
    const one = new StackLocks(a, { now, host: 'host-a', pid: 111, alive: () => true, ttlMs: 60_000 });
    const two = new StackLocks(b, { now, host: 'host-b', pid: 222, alive: () => true, ttlMs: 60_000 });
    const held = await one.acquire('shop', 'apply');
    clock += 59_000;
    await busy(two.acquire('shop', 'apply'));
    clock += 2_000;
    const taken = await two.acquire('shop', 'apply');
    expect(taken.holder.host).toBe('host-b');
    // The old holder's renewal finds the later slot: it aborts its run instead of renewing.
    await held.renew();
    expect(held.lost.aborted).toBe(true);
    await held.release(); // does not free the new holder's lock
    await busy(one.acquire('shop', 'apply'));
    await taken.release();
  });

  it('a holder on this host whose process is gone is taken over at once (a daemon killed and started again)', async () => {
    let oldAlive = true;
    const dead = new StackLocks(a, { now, host: 'host-a', pid: 111 });
    await dead.acquire('shop', 'apply');
    const restarted = new StackLocks(b, { now, host: 'host-a', pid: 333, alive: (pid) => pid !== 111 || oldAlive });
    await busy(restarted.acquire('shop', 'apply'));
    oldAlive = false;
    const held = await restarted.acquire('shop', 'apply');
    expect(held.holder.pid).toBe(333);
    // Another host cannot see that process: it waits for the expiry.
    const elsewhere = new StackLocks(a, { now, host: 'host-b', pid: 111, alive: () => false });
    await held.release();
    const h2 = await elsewhere.acquire('shop', 'apply');
    await h2.release();
  });

  it('two daemons racing for a free lock: exactly one wins', async () => {
    const one = new StackLocks(a, { now, host: 'host-a', pid: 111, alive: () => true });
    const two = new StackLocks(b, { now, host: 'host-b', pid: 222, alive: () => true });
    const results = await Promise.allSettled([one.acquire('race', 'apply'), two.acquire('race', 'apply'), one.acquire('race', 'apply'), two.acquire('race', 'apply')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'fulfilled') await r.value.release();
  });
});
