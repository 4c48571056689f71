/**
 * The rebalance run over made-up hosts and VM records; the moves are a fake
 * that records calls (the live moves themselves are the migration code's,
 * shown with real QEMU in test/cluster-drain.test.ts and test/migration-hosts).
 */
import { describe, expect, it } from 'vitest';
import { validateSpec, type HostView } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';
import type { PublishedHost } from './membership.js';
import { Rebalancer } from './rebalance.js';

const GiB = 1024 ** 3;
const host = (name: string): HostView => ({
  name, state: 'ready', capacity: { cpus: 8, memoryBytes: 16 * GiB, diskBytes: 100 * GiB }, allocated: { cpus: 0, memoryBytes: 0, diskBytes: 0 },
  vms: 0, pool: '', version: 't', since: '2026-12-05T00:00:00Z', leaseAgeSeconds: 1, self: false,
});
const published = (name: string): PublishedHost => ({ name, state: 'ready', capacity: host(name).capacity, facts: { apiUrl: `http://${name}` }, since: '', lease: '1', createRevision: 1 });
const vm = (name: string, on: string, memory: string, state: VmRecord['state'] = 'running'): VmRecord => ({
  id: name, name, spec: validateSpec({ name, memory, disks: [{ name: 'root', size: '1Gi' }] }), state, stateReason: '', host: on, runtime: null,
  createdAt: '', updatedAt: '', generation: 1,
});

function setup(records: VmRecord[], fail: Set<string> = new Set()) {
  const calls: string[] = [];
  let running = 0;
  let most = 0;
  const r = new Rebalancer({
    vms: async () => records,
    hosts: async () => ['a', 'b', 'c'].map(host),
    live: async () => ['a', 'b', 'c'].map(published),
    move: async (name, from, to, caller) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((res) => setTimeout(res, 20));
      running -= 1;
      calls.push(`${name}:${from}->${to.name} as ${caller}`);
      if (fail.has(name)) throw new Error(`${name} would not move`);
    },
  });
  return { r, calls, most: () => most };
}

const loaded = () => [vm('v1', 'a', '4Gi'), vm('v2', 'a', '4Gi'), vm('v3', 'a', '2Gi'), vm('v4', 'a', '2Gi'), vm('off', 'a', '8Gi', 'stopped')];

describe('rebalance runs', () => {
  it('a dry run plans from the records (stopped VMs neither claim nor move) and moves nothing', async () => {
    const { r, calls } = setup(loaded());
    const v = await r.run({ dryRun: true, caller: 'local' });
    expect(v).toMatchObject({ state: 'planned', dryRun: true, imbalanceBefore: 0.75, imbalanceAfter: 0 });
    expect(v.moves.map((m) => [m.vm, m.to, m.state])).toEqual([['v1', 'b', 'pending'], ['v2', 'c', 'pending']]);
    expect(calls).toEqual([]);
  });

  it('moves with at most `concurrency` at once, as the caller, reporting progress; a failed move is noted and the others go on', async () => {
    const { r, calls, most } = setup(loaded(), new Set(['v1']));
    const progress: number[] = [];
    const details: unknown[] = [];
    const v = await r.run({ caller: 'token:ops', concurrency: 1, threshold: 0.2 }, { progress: (f) => progress.push(f), detail: (d) => details.push(d) });
    expect(most()).toBe(1);
    expect(calls).toEqual(['v1:a->b as token:ops', 'v2:a->c as token:ops']);
    expect(v.state).toBe('failed');
    expect(v.moves.map((m) => [m.vm, m.state, m.error])).toEqual([['v1', 'failed', 'v1 would not move'], ['v2', 'done', null]]);
    expect(progress.at(0)).toBe(0);
    expect(progress.at(-1)).toBe(1);
    expect(details.at(-1)).toMatchObject({ moves: [{ vm: 'v1', state: 'failed' }, { vm: 'v2', state: 'done' }] });
    const two = setup(loaded());
    expect((await two.r.run({ caller: 'local', concurrency: 2 })).state).toBe('done');
    expect(two.most()).toBe(2);
  });

  it('a balanced cluster answers balanced and moves nothing; bad settings are refused', async () => {
    const { r, calls } = setup([vm('v1', 'a', '2Gi'), vm('v2', 'b', '2Gi')]);
    expect(await r.run({ caller: 'local' })).toMatchObject({ state: 'balanced', moves: [], dryRun: false });
    expect(calls).toEqual([]);
    await expect(r.run({ caller: 'local', threshold: 2 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(r.run({ caller: 'local', concurrency: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
