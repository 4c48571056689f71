import { describe, expect, it } from 'vitest';
import { planRebalance, type RebalanceVm } from './rebalance-plan.js';
import { DEFAULT_POLICY, type HostCandidate, type PlacementRequest } from './scheduler/index.js';

const GiB = 1024 ** 3;

/** Hosts of 8 CPUs and 16 GiB; VMs of 1 CPU and `gib` GiB, placed as given. */
function cluster(spec: Record<string, Array<[string, number, Partial<PlacementRequest>?]>>, over: Record<string, Partial<HostCandidate>> = {}) {
  const vms: RebalanceVm[] = [];
  const hosts: HostCandidate[] = Object.entries(spec).map(([name, list]) => {
    const reqs = list.map(([vm, gib, more]): PlacementRequest => ({ vm, cpus: 1, memoryBytes: gib * GiB, diskBytes: 0, ...more }));
    for (const r of reqs) vms.push({ name: r.vm, host: name, request: r });
    return {
      name, state: 'ready', capacity: { cpus: 8, memoryBytes: 16 * GiB, diskBytes: 100 * GiB },
      allocated: { cpus: reqs.length, memoryBytes: reqs.reduce((n, r) => n + r.memoryBytes, 0), diskBytes: 0 },
      vms: reqs.map((r) => ({ name: r.vm, ...(r.groups ? { groups: r.groups } : {}) })), ...over[name],
    };
  });
  return { hosts, vms };
}

describe('the rebalance planner', () => {
  it('spreads a loaded host onto empty ones until the imbalance is within the threshold, largest VMs first', () => {
    const { hosts, vms } = cluster({ a: [['v1', 4], ['v2', 4], ['v3', 2], ['v4', 2]], b: [], c: [] });
    const p = planRebalance({ hosts, vms, policy: DEFAULT_POLICY });
    expect(p.imbalanceBefore).toBe(0.75);
    expect(p.moves.map((m) => [m.vm, m.from, m.to])).toEqual([['v1', 'a', 'b'], ['v2', 'a', 'c']]);
    expect(p.moves[0]!.loads).toEqual({ from: [0.75, 0.5], to: [0, 0.25] });
    expect(p.imbalanceAfter).toBe(0);
    expect(p.loads).toEqual([{ host: 'a', before: 0.75, after: 0.25 }, { host: 'b', before: 0, after: 0.25 }, { host: 'c', before: 0, after: 0.25 }]);
    expect(p.stopped).toMatch(/within the threshold 0.2/);
  });

  it('proposes nothing when the imbalance is within the threshold', () => {
    const { hosts, vms } = cluster({ a: [['v1', 4], ['v2', 1], ['v3', 1]], b: [['v4', 4]] });
    const p = planRebalance({ hosts, vms, policy: DEFAULT_POLICY, threshold: 0.2 });
    expect(p.imbalanceBefore).toBe(0.125);
    expect(p.moves).toEqual([]);
    expect(planRebalance({ hosts, vms, policy: DEFAULT_POLICY, threshold: 0.1 }).moves.map((m) => m.vm)).toEqual(['v2']);
  });

  it('keeps hard anti-affinity: a VM never joins a member of a group it must avoid, even when that host is emptier', () => {
    const web = { groups: ['web'], rules: [{ kind: 'anti-affinity' as const, target: { group: 'web' } }] };
    const { hosts, vms } = cluster({ a: [['w1', 4, web], ['w2', 4, web], ['x', 4]], b: [['w3', 1, web]], c: [['y', 6]] });
    // a holds two web VMs (placed before the rule, say): w1 may not go to the emptiest host b (w3 runs there), so it goes
    // to c; then w2 may go neither to b nor to c, and the planner stops with the loads as close as the rule allows.
    const p = planRebalance({ hosts, vms, policy: DEFAULT_POLICY });
    expect(p.moves.map((m) => [m.vm, m.to])).toEqual([['w1', 'c'], ['y', 'b']]);
    expect(p.stopped).toMatch(/no move/);
    const free = planRebalance({ hosts, vms: vms.map((v) => ({ ...v, request: { ...v.request, rules: [] } })), policy: DEFAULT_POLICY });
    expect(free.moves[0]).toMatchObject({ vm: 'w1', to: 'b' }); // without the rule, the emptiest host
  });

  it('leaves cordoned, draining and down hosts alone, and keeps a VM in its preferred pool', () => {
    const { hosts, vms } = cluster(
      { a: [['g1', 6, { preferredPools: ['gold'] }], ['v', 6]], b: [], c: [], d: [] },
      { a: { pool: 'gold' }, b: { state: 'cordoned' }, c: { state: 'down' }, d: {} },
    );
    const p = planRebalance({ hosts, vms, policy: DEFAULT_POLICY });
    expect(p.loads.map((l) => l.host)).toEqual(['a', 'd']);
    expect(p.moves.map((m) => [m.vm, m.to])).toEqual([['v', 'd']]); // g1 would leave pool gold; b and c take nothing
    const cordonedSource = cluster({ a: [['v1', 8], ['v2', 8]], b: [] }, { a: { state: 'cordoned' } });
    expect(planRebalance({ ...cordonedSource, policy: DEFAULT_POLICY }).moves).toEqual([]);
  });

  it('moves no VM twice, and honours a move limit', () => {
    const { hosts, vms } = cluster({ a: [['v1', 2], ['v2', 2], ['v3', 2], ['v4', 2], ['v5', 2], ['v6', 2], ['v7', 2], ['v8', 2]], b: [], c: [], d: [] });
    const p = planRebalance({ hosts, vms, policy: DEFAULT_POLICY, threshold: 0 });
    const names = p.moves.map((m) => m.vm);
    expect(new Set(names).size).toBe(names.length);
    expect(p.moves).toHaveLength(6);
    expect(p.imbalanceAfter).toBe(0);
    const limited = planRebalance({ hosts, vms, policy: DEFAULT_POLICY, maxMoves: 2, threshold: 0 });
    expect(limited.moves).toHaveLength(2);
    expect(limited.stopped).toMatch(/limit of 2 moves/);
  });

  it('stops when no move brings the loads closer (one VM bigger than the gap), and is deterministic in host and VM order', () => {
    const one = cluster({ a: [['big', 12]], b: [] });
    const p = planRebalance({ ...one, policy: DEFAULT_POLICY });
    expect(p.moves).toEqual([]);
    expect(p.stopped).toMatch(/no move/);
    const { hosts, vms } = cluster({ a: [['v1', 3], ['v2', 3], ['v3', 3], ['v4', 1]], b: [['v5', 1]], c: [], d: [['v6', 2]] });
    const base = planRebalance({ hosts, vms, policy: DEFAULT_POLICY, threshold: 0.05 });
    expect(base.moves.length).toBeGreaterThan(0);
    expect(planRebalance({ hosts: [...hosts].reverse(), vms: [...vms].reverse(), policy: DEFAULT_POLICY, threshold: 0.05 })).toEqual(base);
  });
});
