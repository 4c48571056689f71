import { describe, expect, it } from 'vitest';
import { explain, noHostFitsError, schedule } from './schedule.js';
import { DEFAULT_POLICY, resolvePolicy } from './policy.js';
import { GiB, host, vm } from './test-hosts.js';
import type { HostCandidate, PlacementRequest, Policy } from './types.js';

const chosen = (req: PlacementRequest, hosts: HostCandidate[], p: Policy = DEFAULT_POLICY): string => {
  const r = schedule(req, hosts, p);
  if (!r.ok) throw new Error(`no host: ${JSON.stringify(r.rejected)}`);
  return r.host;
};
const used = (name: string, cpus: number, memGiB: number, extra: Partial<HostCandidate> = {}): HostCandidate =>
  host(name, { allocated: { cpus, memoryBytes: memGiB * GiB, diskBytes: 0 }, ...extra });
const spread = resolvePolicy({ mode: 'spread' });

/** Places the requests one by one, adding each to the chosen host (what the cluster's scheduler loop does). */
function placeInTurn(reqs: PlacementRequest[], hosts: HostCandidate[], p: Policy): Map<string, string[]> {
  const state = new Map(hosts.map((h) => [h.name, h]));
  const out = new Map<string, string[]>(hosts.map((h) => [h.name, []]));
  for (const r of reqs) {
    const res = schedule(r, [...state.values()], p);
    if (!res.ok) continue;
    const h = state.get(res.host)!;
    state.set(h.name, {
      ...h,
      allocated: { cpus: h.allocated.cpus + r.cpus, memoryBytes: h.allocated.memoryBytes + r.memoryBytes, diskBytes: h.allocated.diskBytes + r.diskBytes },
      vms: [...(h.vms ?? []), { name: r.vm, groups: r.groups ?? [] }],
    });
    out.get(h.name)!.push(r.vm);
  }
  return out;
}

describe('scores', () => {
  it('pack picks the host with the least room left after placement (best fit)', () => {
    const hosts = [used('roomy', 2, 8), used('tight', 12, 56), used('middle', 8, 32)];
    expect(chosen(vm('a'), hosts)).toBe('tight');
  });

  it('pack fills hosts in use before an empty one, and opens the largest empty host first', () => {
    const big = host('big', { capacity: { cpus: 64, memoryBytes: 256 * GiB, diskBytes: 4000 * GiB } });
    expect(chosen(vm('a'), [host('small'), big, used('inuse', 2, 8)])).toBe('inuse');
    expect(chosen(vm('a'), [host('small'), big])).toBe('big');
  });

  it('spread picks the host with the most room left', () => {
    const hosts = [used('roomy', 2, 8), used('tight', 12, 56), used('middle', 8, 32)];
    expect(chosen(vm('a'), hosts, spread)).toBe('roomy');
  });

  it('weights choose which resource counts: memory-only weights ignore CPU', () => {
    const cpuBusy = used('cpubusy', 60, 8);
    const memBusy = used('membusy', 0, 40);
    const memOnly = resolvePolicy({ weights: { cpu: 0, disk: 0 } });
    const cpuOnly = resolvePolicy({ weights: { memory: 0, disk: 0 } });
    expect(chosen(vm('a'), [cpuBusy, memBusy], memOnly)).toBe('membusy');
    expect(chosen(vm('a'), [cpuBusy, memBusy], cpuOnly)).toBe('cpubusy');
  });

  it('ties break by host name, whatever the order given', () => {
    const names = ['h3', 'h1', 'h10', 'h2'];
    expect(chosen(vm('a'), names.map((n) => host(n)))).toBe('h1');
    expect(chosen(vm('a'), names.reverse().map((n) => host(n)), spread)).toBe('h1');
  });

  it('soft anti-affinity lowers the score but does not filter; soft affinity raises it', () => {
    const a = used('a', 12, 56, { vms: [{ name: 'web1', groups: ['web'] }] });
    const b = used('b', 2, 8);
    const soft = vm('web2', { groups: ['web'], rules: [{ kind: 'anti-affinity', target: { group: 'web' }, hard: false }] });
    expect(chosen(vm('plain'), [a, b])).toBe('a'); // best fit alone
    expect(chosen(soft, [a, b])).toBe('b');
    expect(chosen(soft, [a])).toBe('a'); // still placed when nothing else fits
    const near = vm('x', { rules: [{ kind: 'affinity', target: { vm: 'web1' }, hard: false }] });
    expect(chosen(near, [a, b], spread)).toBe('a');
    const weak = vm('web2', { groups: ['web'], rules: [{ kind: 'anti-affinity', target: { group: 'web' }, hard: false, weight: 1 }] });
    expect(chosen(weak, [a, b])).toBe('a'); // one point does not outweigh the fit
  });

  it('hard anti-affinity filters the host out instead', () => {
    const a = used('a', 12, 56, { vms: [{ name: 'web1', groups: ['web'] }] });
    const hard = vm('web2', { groups: ['web'], rules: [{ kind: 'anti-affinity', target: { group: 'web' } }] });
    const r = schedule(hard, [a], DEFAULT_POLICY);
    expect(r).toMatchObject({ ok: false, rejected: [{ host: 'a', filter: 'anti-affinity' }] });
  });
});

describe('tiers', () => {
  const hosts = [
    host('g1', { pool: 'gold', priority: 2, allocated: { cpus: 0, memoryBytes: 62 * GiB, diskBytes: 0 } }),
    host('g2', { pool: 'gold', priority: 1 }),
    host('s1', { pool: 'silver', priority: 5 }),
    host('n1', { priority: 9 }),
  ];

  it('uses the best tier that has a fitting host: first preferred pool, then higher priority', () => {
    expect(chosen(vm('a', { memoryBytes: 2 * GiB, preferredPools: ['gold', 'silver'] }), hosts)).toBe('g1');
    expect(chosen(vm('a', { preferredPools: ['gold', 'silver'] }), hosts)).toBe('g2'); // g1 lacks memory
    expect(chosen(vm('a', { preferredPools: ['silver', 'gold'] }), hosts)).toBe('s1');
    expect(chosen(vm('a'), hosts)).toBe('n1'); // no preference: priority alone
  });

  it('falls to the next tier only when the better one has no fitting host; restrictToPools never leaves the pools', () => {
    const big = vm('a', { memoryBytes: 63 * GiB, preferredPools: ['gold'], restrictToPools: true });
    expect(chosen(big, hosts)).toBe('g2');
    const none = schedule({ ...big, memoryBytes: 65 * GiB }, hosts, DEFAULT_POLICY);
    expect(none.ok).toBe(false);
    const rows = explain(vm('a', { preferredPools: ['gold'] }), hosts, DEFAULT_POLICY);
    expect(rows.map((r) => [r.host, r.chosen, r.verdicts.at(-1)])).toEqual([
      ['g2', true, { filter: 'tier', pass: true }],
      ['n1', false, { filter: 'tier', pass: false, reason: 'pool "" priority 9: a better tier (pool "gold" priority 1) has a host that fits' }],
      ['s1', false, { filter: 'tier', pass: false, reason: 'pool "silver" priority 5: a better tier (pool "gold" priority 1) has a host that fits' }],
      ['g1', false, { filter: 'anti-affinity', pass: true }],
    ]);
  });
});

describe('schedule and explain', () => {
  it('12 VMs in 3 groups on 3 hosts: soft anti-affinity spreads every group as evenly as it can', () => {
    const groups = ['web', 'db', 'cache'];
    const reqs = groups.flatMap((g) => [1, 2, 3, 4].map((i) =>
      vm(`${g}${i}`, { groups: [g], rules: [{ kind: 'anti-affinity', target: { group: g }, hard: false }] })));
    for (const p of [DEFAULT_POLICY, spread]) {
      const placed = placeInTurn(reqs, [host('h1'), host('h2'), host('h3')], p);
      // spread also evens the hosts out; pack may fill one host more (up to two of each group)
      if (p === spread) expect([...placed.values()].map((v) => v.length)).toEqual([4, 4, 4]);
      expect([...placed.values()].flat()).toHaveLength(12);
      for (const [, vms] of placed) {
        for (const g of groups) {
          const n = vms.filter((v) => v.startsWith(g)).length;
          expect(n === 1 || n === 2, `${g} on one host: ${n}`).toBe(true);
        }
      }
    }
  });

  it('12 VMs in 3 groups on 3 hosts with hard anti-affinity: one of each group per host, the 4th of each refused', () => {
    const groups = ['web', 'db', 'cache'];
    const reqs = groups.flatMap((g) => [1, 2, 3, 4].map((i) =>
      vm(`${g}${i}`, { groups: [g], rules: [{ kind: 'anti-affinity', target: { group: g } }] })));
    const hosts = [host('h1'), host('h2'), host('h3')];
    const placed = placeInTurn(reqs, hosts, DEFAULT_POLICY);
    for (const [, vms] of placed) expect(vms.map((v) => v.replace(/\d$/, '')).sort()).toEqual(['cache', 'db', 'web']);
    expect([...placed.values()].flat().sort()).not.toContain('web4');
  });

  it('a request nothing fits lists every host with the filter that rejected it and the numbers', () => {
    const hosts = [
      host('cordoned', { state: 'cordoned' }),
      host('down', { state: 'down' }),
      used('full', 2, 62),
      host('wronglabel', { labels: { zone: 'b' }, storage: ['nfs'] }),
      host('nostorage', { labels: { zone: 'a' } }),
      host('busycpu', { labels: { zone: 'a' }, storage: ['nfs'], allocated: { cpus: 63, memoryBytes: 0, diskBytes: 0 } }),
      host('small', { labels: { zone: 'a' }, storage: ['nfs'], capacity: { cpus: 16, memoryBytes: 64 * GiB, diskBytes: 10 * GiB } }),
    ];
    const r = schedule(vm('big', { selector: 'zone=a', storagePool: 'nfs' }), hosts, DEFAULT_POLICY);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.rejected).toEqual([
      { host: 'busycpu', filter: 'cpu', reason: 'needs 2 CPUs, 1 free of 64 (16 × overcommit 4)' },
      { host: 'cordoned', filter: 'state', reason: 'host is cordoned; only ready hosts take new VMs' },
      { host: 'down', filter: 'state', reason: 'host is down; only ready hosts take new VMs' },
      { host: 'full', filter: 'memory', reason: 'needs 4 GiB memory, 2 GiB free of 64 GiB (64 GiB × overcommit 1)' },
      { host: 'nostorage', filter: 'storage', reason: 'does not reach storage pool nfs' },
      { host: 'small', filter: 'disk', reason: 'needs 20 GiB disk, 10 GiB free of 10 GiB (10 GiB × overcommit 1)' },
      { host: 'wronglabel', filter: 'selector', reason: 'labels do not meet zone=a' },
    ]);
    const err = noHostFitsError(r);
    expect(err.code).toBe('NO_HOST_FITS');
    expect(err.message).toBe('no host fits VM big: 7 hosts rejected (2 by state, 1 by cpu, 1 by disk, 1 by memory, 1 by selector, 1 by storage)');
    expect(err.details).toEqual({ vm: 'big', rejected: r.rejected });
    expect(noHostFitsError(schedule(vm('x'), [], DEFAULT_POLICY) as never).message).toBe('no host fits VM x: the cluster has no hosts');
  });

  it('explain lists every host with every verdict, the chosen first, scores only for hosts that pass', () => {
    const hosts = [host('b'), used('a', 8, 32), host('c', { state: 'down', labels: { zone: 'x' } })];
    const rows = explain(vm('v', { selector: 'zone=a' }), [...hosts, host('d', { labels: { zone: 'a' } })], DEFAULT_POLICY);
    expect(rows.map((r) => r.host)).toEqual(['d', 'a', 'b', 'c']);
    expect(rows[0]!.chosen).toBe(true);
    expect(rows[0]!.score!.total).toBeGreaterThan(0);
    const c = rows[3]!;
    expect(c.score).toBeUndefined();
    expect(c.verdicts.filter((v) => !v.pass).map((v) => v.filter)).toEqual(['state', 'selector']);
    expect(c.verdicts).toHaveLength(12); // every filter ran (numa, hugepages and devices pass a VM that asks none of them), not only up to the first failure
    expect(rows.filter((r) => r.chosen)).toHaveLength(1);
  });

  it('is deterministic: the same input gives the same answer, a shuffled host list too', () => {
    const hosts: HostCandidate[] = [];
    for (let i = 0; i < 40; i++) {
      hosts.push(used(`h${i}`, (i * 7) % 16, (i * 13) % 60, { labels: { zone: i % 2 ? 'a' : 'b' }, pool: i % 3 ? 'p' : 'q' }));
    }
    const reqs = [vm('x'), vm('y', { selector: 'zone=a' }), vm('z', { preferredPools: ['q'] }), vm('w', { memoryBytes: 30 * GiB })];
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const p of [DEFAULT_POLICY, spread]) {
      for (const r of reqs) {
        const first = schedule(r, hosts, p);
        const rows = JSON.stringify(explain(r, hosts, p));
        for (let k = 0; k < 5; k++) {
          const shuffled = [...hosts].sort(() => rnd() - 0.5);
          expect(schedule(r, shuffled, p)).toEqual(first);
          expect(JSON.stringify(explain(r, shuffled, p))).toBe(rows);
        }
      }
    }
  });
});
