import { describe, expect, it } from 'vitest';
import { placeAll } from './place-all.js';
import { DEFAULT_POLICY, resolvePolicy } from './policy.js';
import { schedule } from './schedule.js';
import { GiB, host, vm } from './test-hosts.js';
import type { AffinityRule, HostCandidate, HostState, PlacementRequest, Policy } from './types.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const SHAPES = [
  { cpus: 8, memoryBytes: 32 * GiB, diskBytes: 500 * GiB },
  { cpus: 16, memoryBytes: 64 * GiB, diskBytes: 1000 * GiB },
  { cpus: 32, memoryBytes: 256 * GiB, diskBytes: 2000 * GiB },
];
const STATES: HostState[] = ['ready', 'ready', 'ready', 'ready', 'ready', 'ready', 'cordoned', 'down'];

function randomCluster(seed: number, nHosts: number, nVms: number): { hosts: HostCandidate[]; reqs: PlacementRequest[] } {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const hosts = Array.from({ length: nHosts }, (_, i) => host(`h${String(i).padStart(3, '0')}`, {
    state: pick(STATES),
    capacity: pick(SHAPES),
    labels: { zone: pick(['a', 'b', 'c']), ...(r() < 0.3 ? { gpu: 'yes' } : {}) },
    pool: pick(['', 'gold', 'silver']),
    priority: pick([0, 1, 2]),
    storage: r() < 0.8 ? ['local', 'nfs'] : ['local'],
    ...(r() < 0.3 ? { allocated: { cpus: 4, memoryBytes: 8 * GiB, diskBytes: 100 * GiB }, vms: [{ name: `old${i}`, groups: ['legacy'] }] } : {}),
  }));
  const reqs = Array.from({ length: nVms }, (_, i): PlacementRequest => {
    const g = `g${Math.floor(r() * 8)}`;
    const rules: AffinityRule[] = [];
    const roll = r();
    if (roll < 0.15) rules.push({ kind: 'anti-affinity', target: { group: g } });
    else if (roll < 0.35) rules.push({ kind: 'anti-affinity', target: { group: g }, hard: false });
    else if (roll < 0.4) rules.push({ kind: 'affinity', target: { group: g } });
    else if (roll < 0.45) rules.push({ kind: 'affinity', target: { vm: `old${Math.floor(r() * nHosts)}` }, hard: r() < 0.5 });
    return vm(`v${i}`, {
      cpus: pick([1, 2, 4, 8]),
      memoryBytes: pick([1, 2, 4, 8, 16, 32]) * GiB,
      diskBytes: pick([10, 20, 50, 100]) * GiB,
      groups: [g],
      rules,
      ...(r() < 0.2 ? { selector: pick(['zone=a', 'zone!=b', 'gpu', 'zone in (a,c)', '!gpu']) } : {}),
      ...(r() < 0.2 ? { storagePool: 'nfs' } : {}),
      ...(r() < 0.3 ? { preferredPools: pick([['gold'], ['silver', 'gold'], ['gold', '']]), restrictToPools: r() < 0.3 } : {}),
    });
  });
  return { hosts, reqs };
}

/** The reference: schedule() for each request in turn, applying each placement. */
function oneByOne(reqs: readonly PlacementRequest[], hosts: HostCandidate[], p: Policy): (string | null)[] {
  const state = [...hosts];
  return reqs.map((r) => {
    const res = schedule(r, state, p);
    if (!res.ok) return null;
    const i = state.findIndex((h) => h.name === res.host);
    const h = state[i]!;
    state[i] = {
      ...h,
      allocated: { cpus: h.allocated.cpus + r.cpus, memoryBytes: h.allocated.memoryBytes + r.memoryBytes, diskBytes: h.allocated.diskBytes + r.diskBytes },
      vms: [...(h.vms ?? []), { name: r.vm, groups: r.groups ?? [] }],
    };
    return res.host;
  });
}

const spread = resolvePolicy({ mode: 'spread' });
const cpuHeavy = resolvePolicy({ overcommit: { cpu: 1 }, weights: { cpu: 3, disk: 0 } });

describe('placeAll', () => {
  it.each([
    ['pack', DEFAULT_POLICY, 1],
    ['spread', spread, 2],
    ['pack, cpu-weighted, no cpu overcommit', cpuHeavy, 3],
    ['pack, another cluster', DEFAULT_POLICY, 4],
  ])('places exactly as schedule() one VM at a time would (%s)', (_name, p, seed) => {
    const { hosts, reqs } = randomCluster(seed, 60, 400);
    const expected = oneByOne(reqs, hosts, p);
    const got = placeAll(reqs, hosts, p, { order: 'given' });
    expect(got.placements.map((x) => x.host)).toEqual(expected);
    expect(expected.filter((x) => x === null).length).toBeGreaterThan(0); // the cluster does fill up
    expect(new Set(expected).size).toBeGreaterThan(20);
    expect(placeAll(reqs, hosts, p, { order: 'given', naive: true }).placements).toEqual(got.placements);
  });

  it('the index and the full scan agree on a larger cluster, in the order given and largest VMs first', () => {
    const { hosts, reqs } = randomCluster(9, 200, 2000);
    for (const p of [DEFAULT_POLICY, spread]) {
      const fast = placeAll(reqs, hosts, p);
      expect(placeAll(reqs, hosts, p, { naive: true }).placements).toEqual(fast.placements);
    }
    const big = placeAll(reqs, hosts, DEFAULT_POLICY, { order: 'largest-first' });
    expect(placeAll(reqs, hosts, DEFAULT_POLICY, { order: 'largest-first', naive: true }).placements).toEqual(big.placements);
  });

  it('updates allocations and VM lists, never past capacity, and is deterministic under shuffled hosts', () => {
    const { hosts, reqs } = randomCluster(5, 50, 500);
    const res = placeAll(reqs, hosts, DEFAULT_POLICY);
    const byName = new Map(reqs.map((r) => [r.vm, r]));
    for (const h of res.hosts) {
      const before = hosts.find((x) => x.name === h.name)!;
      const added = (h.vms ?? []).filter((v) => byName.has(v.name)).map((v) => byName.get(v.name)!);
      expect(h.allocated.memoryBytes).toBe(before.allocated.memoryBytes + added.reduce((s, r) => s + r.memoryBytes, 0));
      expect(h.allocated.memoryBytes).toBeLessThanOrEqual(h.capacity.memoryBytes);
      expect(h.allocated.cpus).toBeLessThanOrEqual(h.capacity.cpus * 4);
      if (h.state !== 'ready') expect(added).toEqual([]);
    }
    const shuffled = [...hosts].reverse();
    expect(placeAll(reqs, shuffled, DEFAULT_POLICY).placements).toEqual(res.placements);
    expect(placeAll([...reqs], hosts, DEFAULT_POLICY).placements).toEqual(res.placements);
  });

  it('order: the order given by default, the biggest first on request', () => {
    const one = [host('h', { capacity: { cpus: 16, memoryBytes: 10 * GiB, diskBytes: 1000 * GiB } })];
    const reqs = [vm('small', { memoryBytes: 4 * GiB }), vm('big', { memoryBytes: 8 * GiB })];
    expect(placeAll(reqs, one, DEFAULT_POLICY).placements.map((x) => x.host)).toEqual(['h', null]);
    expect(placeAll(reqs, one, DEFAULT_POLICY, { order: 'largest-first' }).placements.map((x) => x.host)).toEqual([null, 'h']);
  });

  it('a VM that fits nowhere is reported with how many hosts each filter rejected; the rest still place', () => {
    const hosts = [host('a'), host('b', { state: 'cordoned' }), host('c', { labels: { zone: 'x' } })];
    const reqs = [vm('huge', { memoryBytes: 100 * GiB }), vm('ok'), vm('picky', { selector: 'zone=y' })];
    const res = placeAll(reqs, hosts, DEFAULT_POLICY, { order: 'given' });
    expect(res.placements).toEqual([
      { vm: 'huge', host: null, rejectedBy: { state: 1, memory: 2 } },
      { vm: 'ok', host: 'a' },
      { vm: 'picky', host: null, rejectedBy: { state: 1, selector: 2 } },
    ]);
  });

  it('12 VMs in 3 hard anti-affinity groups of 3 plus 3 loners on 3 hosts: every host gets one of each group', () => {
    const reqs = ['web', 'db', 'cache'].flatMap((g) => [1, 2, 3].map((i) =>
      vm(`${g}${i}`, { groups: [g], rules: [{ kind: 'anti-affinity', target: { group: g } }] })));
    reqs.push(vm('x1'), vm('x2'), vm('x3'));
    const res = placeAll(reqs, [host('h1'), host('h2'), host('h3')], spread);
    for (const h of res.hosts) {
      const names = (h.vms ?? []).map((v) => v.name.replace(/\d$/, '')).sort();
      expect(names).toEqual(['cache', 'db', 'web', 'x']);
    }
  });
});
