/**
 * Scores for hosts that passed every filter; higher is better. Capacity:
 * `spread` = 100 × the weighted share of allocatable capacity left after
 * placing the VM; `pack` = best fit: a host already in use scores 50..100,
 * more the less room it has left, and an empty host scores up to 50, more the
 * larger it is (so pack fills hosts in use first, then opens the largest
 * empty one). Soft (anti-)affinity adds its points per matching VM. Pure.
 */
import type { CompiledRequest } from './compiled-request.js';
import { matches } from './filters.js';
import type { LiveHost } from './live-host.js';
import type { Policy, Resources, ScoreBreakdown } from './types.js';

/** What scores are normalized by: the largest allocatable amounts among the hosts. */
export interface ScoreContext {
  readonly maxAllocatable: Resources;
}

export function allocatable(h: { capacity: Resources }, p: Policy): Resources {
  return {
    cpus: h.capacity.cpus * p.overcommit.cpu,
    memoryBytes: h.capacity.memoryBytes * p.overcommit.memory,
    diskBytes: h.capacity.diskBytes * p.overcommit.disk,
  };
}

export function scoreContext(hosts: readonly { capacity: Resources }[], p: Policy): ScoreContext {
  let cpus = 0;
  let memoryBytes = 0;
  let diskBytes = 0;
  for (const h of hosts) {
    const a = allocatable(h, p);
    cpus = Math.max(cpus, a.cpus);
    memoryBytes = Math.max(memoryBytes, a.memoryBytes);
    diskBytes = Math.max(diskBytes, a.diskBytes);
  }
  return { maxAllocatable: { cpus, memoryBytes, diskBytes } };
}

/** Weighted share (0..1) of the host's allocatable capacity left after adding `need`. */
export function remainingShare(h: LiveHost, need: Resources, p: Policy): number {
  const o = p.overcommit;
  const w = p.weights;
  const ac = h.capacity.cpus * o.cpu;
  const am = h.capacity.memoryBytes * o.memory;
  const ad = h.capacity.diskBytes * o.disk;
  let sum = 0;
  let weight = 0;
  if (ac > 0) { sum += w.cpu * ((ac - h.cpus - need.cpus) / ac); weight += w.cpu; }
  if (am > 0) { sum += w.memory * ((am - h.memoryBytes - need.memoryBytes) / am); weight += w.memory; }
  if (ad > 0) { sum += w.disk * ((ad - h.diskBytes - need.diskBytes) / ad); weight += w.disk; }
  return weight === 0 ? 0 : sum / weight;
}

/** Weighted size (0..1] of the host against the largest allocatable amounts. */
export function sizeShare(h: LiveHost, p: Policy, ctx: ScoreContext): number {
  const a = allocatable(h, p);
  const m = ctx.maxAllocatable;
  const w = p.weights;
  let sum = 0;
  let weight = 0;
  if (m.cpus > 0) { sum += w.cpu * (a.cpus / m.cpus); weight += w.cpu; }
  if (m.memoryBytes > 0) { sum += w.memory * (a.memoryBytes / m.memoryBytes); weight += w.memory; }
  if (m.diskBytes > 0) { sum += w.disk * (a.diskBytes / m.diskBytes); weight += w.disk; }
  return weight === 0 ? 0 : sum / weight;
}

export function capacityScore(c: CompiledRequest, h: LiveHost, p: Policy, ctx: ScoreContext): number {
  if (p.mode === 'spread') return 100 * remainingShare(h, c.req, p);
  if (h.empty) return 50 * sizeShare(h, p, ctx);
  return 50 + 50 * (1 - remainingShare(h, c.req, p));
}

export function affinityScore(c: CompiledRequest, h: LiveHost): number {
  let s = 0;
  for (const r of c.soft) s += r.points * matches(r.target, h, c.req.vm);
  return s;
}

export function scoreHost(c: CompiledRequest, h: LiveHost, p: Policy, ctx: ScoreContext): ScoreBreakdown {
  const capacity = capacityScore(c, h, p, ctx);
  const affinity = affinityScore(c, h);
  return { capacity, affinity, total: capacity + affinity };
}

/** Ranking: higher total first, then host name (code-unit order): the same input always picks the same host. */
export function better(a: { name: string; total: number }, b: { name: string; total: number }): boolean {
  if (a.total !== b.total) return a.total > b.total;
  return a.name < b.name;
}
