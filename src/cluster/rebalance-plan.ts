/**
 * `polyvisor cluster rebalance` (docs/cluster.md "Rebalance"): which running
 * VMs to move live so that the hosts' loads come closer. Pure and
 * deterministic: the same hosts and VMs give the same moves, whatever order
 * they come in.
 *
 * A host's load is its dominant share: the larger of its CPU and memory
 * allocated over what it may allocate (capacity × overcommit), as the
 * scheduler's capacity filters count them. The imbalance is the highest
 * load of the ready hosts minus the lowest. While it is above the threshold,
 * the planner takes the most loaded host that has a VM to give, and moves
 * its largest VM (memory, then CPUs, then name) to the least loaded host
 * that passes every scheduler filter for it (capacity, pools, hard
 * affinity and anti-affinity — the same filters as placement, drain and HA)
 * and where the move brings the two hosts' loads closer. Only ready hosts
 * give or take VMs: cordoned, draining and down hosts are left alone. A VM
 * moves at most once; a VM is not moved out of its preferred host pool.
 */
import { explain, type HostCandidate, type HostVm, type PlacementRequest, type Policy } from './scheduler/index.js';

export const DEFAULT_REBALANCE_THRESHOLD = 0.2;

/** A VM that may move live (running or paused) and what it asks of a host. */
export interface RebalanceVm {
  name: string;
  host: string;
  request: PlacementRequest;
}

export interface RebalanceMove {
  vm: string;
  from: string;
  to: string;
  /** The two hosts' loads before and after this move. */
  loads: { from: [number, number]; to: [number, number] };
}

export interface RebalancePlanResult {
  threshold: number;
  imbalanceBefore: number;
  imbalanceAfter: number;
  /** Each ready host's load before and after the moves. */
  loads: Array<{ host: string; before: number; after: number }>;
  moves: RebalanceMove[];
  /** Why the planner stopped (balanced, nothing can move, limit). */
  stopped: string;
}

interface Mutable {
  name: string;
  cand: HostCandidate;
  cpus: number;
  memoryBytes: number;
  diskBytes: number;
  vms: HostVm[];
}

const loadOf = (h: Mutable, p: Policy, delta = { cpus: 0, memoryBytes: 0 }): number => {
  const cpu = h.cand.capacity.cpus * p.overcommit.cpu;
  const mem = h.cand.capacity.memoryBytes * p.overcommit.memory;
  return Math.max(cpu > 0 ? (h.cpus + delta.cpus) / cpu : 0, mem > 0 ? (h.memoryBytes + delta.memoryBytes) / mem : 0);
};

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const round = (n: number): number => Math.round(n * 10_000) / 10_000;

export function planRebalance(i: { hosts: readonly HostCandidate[]; vms: readonly RebalanceVm[]; policy: Policy; threshold?: number; maxMoves?: number }): RebalancePlanResult {
  const threshold = i.threshold ?? DEFAULT_REBALANCE_THRESHOLD;
  const all: Mutable[] = [...i.hosts].sort(byName).map((c) => ({ name: c.name, cand: c, ...c.allocated, vms: [...(c.vms ?? [])] }));
  const ready = all.filter((h) => h.cand.state === 'ready');
  const byHost = new Map(all.map((h) => [h.name, h]));
  const movable = [...i.vms].filter((v) => byHost.get(v.host)?.cand.state === 'ready').sort(byName);
  const moved = new Set<string>();
  const moves: RebalanceMove[] = [];
  const loads = () => ready.map((h) => loadOf(h, i.policy));
  const spread = () => (ready.length < 2 ? 0 : Math.max(...loads()) - Math.min(...loads()));
  const before = new Map(ready.map((h) => [h.name, loadOf(h, i.policy)]));
  const imbalanceBefore = spread();
  const max = i.maxMoves ?? movable.length;
  let stopped = ready.length < 2 ? 'fewer than two ready hosts' : '';

  while (!stopped) {
    if (spread() <= threshold) { stopped = `imbalance ${round(spread())} is within the threshold ${threshold}`; break; }
    if (moves.length >= max) { stopped = `the limit of ${max} moves was reached`; break; }
    const move = nextMove(ready, movable.filter((v) => !moved.has(v.name)), all, i.policy, threshold);
    if (!move) { stopped = 'no move that passes the filters brings the loads closer'; break; }
    moved.add(move.vm);
    moves.push(move);
  }
  return {
    threshold, imbalanceBefore: round(imbalanceBefore), imbalanceAfter: round(spread()),
    loads: ready.map((h) => ({ host: h.name, before: round(before.get(h.name)!), after: round(loadOf(h, i.policy)) })),
    moves, stopped,
  };
}

function nextMove(ready: Mutable[], left: RebalanceVm[], all: Mutable[], p: Policy, threshold: number): RebalanceMove | undefined {
  const desc = [...ready].sort((a, b) => loadOf(b, p) - loadOf(a, p) || byName(a, b));
  const min = loadOf(desc[desc.length - 1]!, p);
  for (const src of desc) {
    const srcLoad = loadOf(src, p);
    if (srcLoad - min <= threshold) return undefined;
    const mine = left.filter((v) => v.host === src.name)
      .sort((a, b) => b.request.memoryBytes - a.request.memoryBytes || b.request.cpus - a.request.cpus || byName(a, b));
    for (const vm of mine) {
      const targets = ready.filter((h) => h !== src && loadOf(h, p) < srcLoad).sort((a, b) => loadOf(a, p) - loadOf(b, p) || byName(a, b));
      for (const tgt of targets) {
        const tgtLoad = loadOf(tgt, p);
        const need = { cpus: vm.request.cpus, memoryBytes: vm.request.memoryBytes };
        const srcAfter = loadOf(src, p, { cpus: -need.cpus, memoryBytes: -need.memoryBytes });
        const tgtAfter = loadOf(tgt, p, need);
        if (Math.abs(srcAfter - tgtAfter) >= srcLoad - tgtLoad) continue; // the pair must come closer
        if (!stillPreferred(vm.request, src, tgt)) continue;
        if (!passesFilters(vm, src, tgt, all, p)) continue;
        apply(vm, src, tgt);
        return { vm: vm.name, from: src.name, to: tgt.name, loads: { from: [round(srcLoad), round(srcAfter)], to: [round(tgtLoad), round(tgtAfter)] } };
      }
    }
  }
  return undefined;
}

/** A VM in one of its preferred pools is not moved to a pool it prefers less. */
function stillPreferred(r: PlacementRequest, src: Mutable, tgt: Mutable): boolean {
  const pools = r.preferredPools ?? [];
  if (pools.length === 0) return true;
  const rank = (pool: string | undefined) => { const k = pools.indexOf(pool ?? ''); return k < 0 ? pools.length : k; };
  return rank(tgt.cand.pool) <= rank(src.cand.pool);
}

/** Every scheduler filter but the tier one passes for the VM on `tgt`, with the VM taken off its host. */
function passesFilters(vm: RebalanceVm, src: Mutable, tgt: Mutable, all: Mutable[], p: Policy): boolean {
  const cands = all.map((h): HostCandidate => {
    const self = h === src;
    const c = self ? { cpus: h.cpus - vm.request.cpus, memoryBytes: h.memoryBytes - vm.request.memoryBytes, diskBytes: h.diskBytes - vm.request.diskBytes } : h;
    return { ...h.cand, allocated: { cpus: c.cpus, memoryBytes: c.memoryBytes, diskBytes: c.diskBytes }, vms: self ? h.vms.filter((v) => v.name !== vm.name) : h.vms };
  });
  const row = explain(vm.request, cands, p).find((r) => r.host === tgt.name);
  return row !== undefined && row.verdicts.every((v) => v.pass || v.filter === 'tier');
}

function apply(vm: RebalanceVm, src: Mutable, tgt: Mutable): void {
  const r = vm.request;
  src.cpus -= r.cpus; src.memoryBytes -= r.memoryBytes; src.diskBytes -= r.diskBytes;
  tgt.cpus += r.cpus; tgt.memoryBytes += r.memoryBytes; tgt.diskBytes += r.diskBytes;
  const entry = src.vms.find((v) => v.name === vm.name) ?? { name: vm.name, ...(r.groups ? { groups: r.groups } : {}) };
  src.vms = src.vms.filter((v) => v.name !== vm.name);
  tgt.vms.push(entry);
}
