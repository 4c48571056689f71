/**
 * Batch placement: many VMs at once (a stack, an evacuation, a simulation),
 * each placed as schedule() would place it given the VMs placed before it,
 * with allocations updated as it goes. Ready hosts without a rule touching
 * them are looked up in a CapacityIndex instead of scanned one by one; hosts
 * that an (anti-)affinity rule of the VM touches, and VMs with hard affinity,
 * go through the same filters and scores as schedule(). `naive: true` scans
 * every host for every VM (the benchmark's peer; the results are the same).
 * Pure (in-memory).
 */
import { compileRequest, type CompiledRequest } from './compiled-request.js';
import { CapacityIndex } from './capacity-index.js';
import { FILTERS, selectorFilter, storageFilter } from './filters.js';
import { devicesFilter } from './filters-devices.js';
import { hugepagesFilter, numaFilter } from './filters-topology.js';
import { LiveHost, type Whereabouts } from './live-host.js';
import { better, capacityScore, scoreContext, scoreHost, type ScoreContext } from './scores.js';
import { compareTiers, tierOf, type TierKey } from './tiers.js';
import type { AffinityTarget, FilterName, HostCandidate, PlacementRequest, Policy } from './types.js';

export interface PlaceAllOptions {
  /**
   * 'given' (default) places in the order given, as VMs arrive; 'largest-first' places the biggest first
   * (in bench/placement.ts it packed worse: it crowds the memory-heavy VMs onto the first hosts and strands their disk).
   */
  readonly order?: 'largest-first' | 'given';
  /** Scan every host for every VM instead of using the index (the benchmark's peer). */
  readonly naive?: boolean;
}

export type Placement =
  | { readonly vm: string; readonly host: string }
  | { readonly vm: string; readonly host: null; readonly rejectedBy: Partial<Record<FilterName, number>> };

export interface PlaceAllResult {
  /** One per request, in the order given. */
  readonly placements: readonly Placement[];
  /** The hosts with their allocations and VMs after placement. */
  readonly hosts: readonly HostCandidate[];
}

interface Best { host: LiveHost; index: number; total: number; name: string }

class Cluster implements Whereabouts {
  readonly vmHost = new Map<string, number>();
  readonly groupHosts = new Map<string, Map<number, number>>();

  constructor(readonly hosts: readonly LiveHost[]) {
    hosts.forEach((h, i) => {
      for (const vm of h.vms) this.vmHost.set(vm, i);
      for (const [g, n] of h.groups) if (n > 0) this.groupHosts.set(g, (this.groupHosts.get(g) ?? new Map()).set(i, n));
    });
  }

  hostOf(vm: string): string | undefined {
    const i = this.vmHost.get(vm);
    return i === undefined ? undefined : this.hosts[i]!.name;
  }

  groupPlaced(group: string): boolean {
    return (this.groupHosts.get(group)?.size ?? 0) > 0;
  }

  /** Hosts that run what the target names. */
  hostsOf(t: AffinityTarget): number[] {
    if ('vm' in t) {
      const i = this.vmHost.get(t.vm);
      return i === undefined ? [] : [i];
    }
    return [...(this.groupHosts.get(t.group)?.keys() ?? [])];
  }

  record(i: number, req: PlacementRequest): void {
    this.hosts[i]!.place(req);
    this.vmHost.set(req.vm, i);
    for (const g of req.groups ?? []) {
      const m = this.groupHosts.get(g) ?? new Map<number, number>();
      m.set(i, (m.get(i) ?? 0) + 1);
      this.groupHosts.set(g, m);
    }
  }
}

function firstRejection(c: CompiledRequest, h: LiveHost, p: Policy, where: Whereabouts): FilterName | undefined {
  for (const [name, fn] of FILTERS) if (fn(c, h, p, where) !== undefined) return name;
  return undefined;
}

function rejectionCounts(c: CompiledRequest, cl: Cluster, p: Policy): Partial<Record<FilterName, number>> {
  const out: Partial<Record<FilterName, number>> = {};
  for (const h of cl.hosts) {
    const f = firstRejection(c, h, p, cl);
    if (f !== undefined) out[f] = (out[f] ?? 0) + 1;
  }
  return out;
}

/** Every host (or those in `only`) through every filter, the tier rule and the scores: what schedule() does, without the rows. */
function scanPick(c: CompiledRequest, cl: Cluster, p: Policy, ctx: ScoreContext, only?: readonly number[]): number | undefined {
  let best: Best | undefined;
  let bestTier: TierKey | undefined;
  const n = only ? only.length : cl.hosts.length;
  for (let j = 0; j < n; j++) {
    const i = only ? only[j]! : j;
    const h = cl.hosts[i]!;
    if (firstRejection(c, h, p, cl) !== undefined) continue;
    const tier = tierOf(c, h);
    const t = bestTier ? compareTiers(tier, bestTier) : -1;
    if (t > 0) continue;
    const cand = { host: h, index: i, total: scoreHost(c, h, p, ctx).total, name: h.name };
    if (t < 0 || !best || better(cand, best)) {
      best = cand;
      bestTier = tier;
    }
  }
  return best?.index;
}

interface Tier { readonly key: TierKey; readonly classes: readonly number[] }

/** The index's classes grouped by tier, best first; the same for every request with the same pool preferences. */
function tiersOf(c: CompiledRequest, idx: CapacityIndex, cache: Map<string, Tier[]>): Tier[] {
  const id = `${c.req.restrictToPools ? 1 : 0}${JSON.stringify(c.req.preferredPools ?? [])}`;
  let tiers = cache.get(id);
  if (tiers) return tiers;
  const byKey = new Map<string, { key: TierKey; classes: number[] }>();
  idx.classes.forEach((cls, k) => {
    if (!c.poolAllowed(cls.pool)) return;
    const key = tierOf(c, cls);
    const s = `${key[0]}\0${key[1]}`;
    const t = byKey.get(s) ?? { key, classes: [] };
    t.classes.push(k);
    byKey.set(s, t);
  });
  tiers = [...byKey.values()].sort((a, b) => compareTiers(a.key, b.key));
  cache.set(id, tiers);
  return tiers;
}

function indexedPick(
  c: CompiledRequest, cl: Cluster, idx: CapacityIndex, p: Policy, ctx: ScoreContext, cache: Map<string, Tier[]>,
): number | undefined {
  // Hard affinity: only the hosts running the first target that restricts anything.
  for (const t of c.mustBeWith) {
    if ('group' in t && !cl.groupPlaced(t.group) && c.groups.has(t.group)) continue;
    return scanPick(c, cl, p, ctx, cl.hostsOf(t).sort((a, b) => a - b));
  }
  // Hosts a rule touches are scored exactly, and skipped in the index.
  const touched = new Set<number>();
  for (const t of c.mustAvoid) for (const i of cl.hostsOf(t)) touched.add(i);
  for (const r of c.soft) for (const i of cl.hostsOf(r.target)) touched.add(i);
  const ordered = tiersOf(c, idx, cache).map((t) => ({ ...t, touched: [] as number[] }));
  for (const i of touched) {
    const key = tierOf(c, cl.hosts[i]!);
    let t = ordered.find((x) => compareTiers(x.key, key) === 0);
    if (!t) ordered.push((t = { key, classes: [], touched: [] }));
    t.touched.push(i);
  }
  ordered.sort((a, b) => compareTiers(a.key, b.key));
  const pack = p.mode === 'pack';
  for (const tier of ordered) {
    let best: Best | undefined;
    const offer = (h: LiveHost, i: number, total: number): void => {
      const cand = { host: h, index: i, total, name: h.name };
      if (!best || better(cand, best)) best = cand;
    };
    for (const i of tier.touched) {
      const h = cl.hosts[i]!;
      if (firstRejection(c, h, p, cl) === undefined) offer(h, i, scoreHost(c, h, p, ctx).total);
    }
    for (const k of tier.classes) {
      idx.scan(k, c.req, pack, (h, i) => {
        if (touched.has(i) || selectorFilter(c, h, p, cl) !== undefined || storageFilter(c, h, p, cl) !== undefined) return false;
        if (c.req.topology && (numaFilter(c, h, p, cl) !== undefined || hugepagesFilter(c, h, p, cl) !== undefined || devicesFilter(c, h, p, cl) !== undefined)) return false;
        offer(h, i, capacityScore(c, h, p, ctx));
        return true;
      });
    }
    if (best) return best.index;
  }
  return undefined;
}

function demand(r: PlacementRequest, ctx: ScoreContext, p: Policy): number {
  const m = ctx.maxAllocatable;
  const w = p.weights;
  return (m.cpus ? (w.cpu * r.cpus) / m.cpus : 0) + (m.memoryBytes ? (w.memory * r.memoryBytes) / m.memoryBytes : 0)
    + (m.diskBytes ? (w.disk * r.diskBytes) / m.diskBytes : 0);
}

export function placeAll(
  requests: readonly PlacementRequest[], hosts: readonly HostCandidate[], p: Policy, opts: PlaceAllOptions = {},
): PlaceAllResult {
  const live = hosts.map((h) => new LiveHost(h));
  const cl = new Cluster(live);
  const ctx = scoreContext(live, p);
  const idx = opts.naive ? undefined : new CapacityIndex(live, p);
  const tierCache = new Map<string, Tier[]>();
  const order = requests.map((_, i) => i);
  if (opts.order === 'largest-first') {
    const d = requests.map((r) => demand(r, ctx, p));
    order.sort((a, b) => d[b]! - d[a]! || a - b);
  }
  const placements: Placement[] = new Array<Placement>(requests.length);
  const added = live.map((): PlacementRequest[] => []);
  for (const n of order) {
    const req = requests[n]!;
    const c = compileRequest(req, p);
    const i = idx ? indexedPick(c, cl, idx, p, ctx, tierCache) : scanPick(c, cl, p, ctx);
    if (i === undefined) {
      placements[n] = { vm: req.vm, host: null, rejectedBy: rejectionCounts(c, cl, p) };
      continue;
    }
    cl.record(i, req);
    added[i]!.push(req);
    idx?.update(i);
    placements[n] = { vm: req.vm, host: live[i]!.name };
  }
  const after = live.map((h, i): HostCandidate => ({
    ...hosts[i]!,
    allocated: { cpus: h.cpus, memoryBytes: h.memoryBytes, diskBytes: h.diskBytes },
    vms: [...(hosts[i]!.vms ?? []), ...added[i]!.map((r) => ({ name: r.vm, groups: r.groups ?? [] }))],
  }));
  return { placements, hosts: after };
}
