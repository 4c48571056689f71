/**
 * `polyvisor schedule explain` (issue 19, docs/scheduler.md): where the
 * scheduler would place a VM — an existing one by name, or a spec not yet
 * created — and why, host by host: every filter's verdict (the first refusal
 * with the host's numbers), the weighers' scores of those that pass, the
 * chosen host. The same request and candidates the drain and HA use (what a
 * VM claims, its HA group as host pool; what the other VMs already claim, as
 * `host list` counts it). Hosts that are down are listed, refused by the
 * state filter. An existing VM does not count against its own host. Pure.
 */
import { fail } from '../shared/index.js';
import type { HostView, ScheduleExplainHostView, ScheduleExplainView, VmSpec } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';
import { explain, topologyRequestOf, type HostCandidate, type PlacementRequest, type Policy } from './scheduler/index.js';
import { CLAIMING_STATES, sumClaims, vmClaim } from './vm-claims.js';

/** What to explain: an existing VM by name, or a spec not yet created. */
export type ExplainTarget = { vm: string } | { spec: VmSpec };

/**
 * The label that spreads VMs: `anti-affinity: GROUP` puts the VM in GROUP
 * with a hard anti-affinity rule against it (no two members on one host).
 */
export const ANTI_AFFINITY_LABEL = 'anti-affinity';

/** The groups a VM's labels put it in. */
export function groupsOf(spec: Pick<VmSpec, 'labels'>): string[] {
  const g = spec.labels[ANTI_AFFINITY_LABEL];
  return g ? [g] : [];
}

/** What a VM asks of a host, as the drain and HA ask it, with its label's anti-affinity group. */
export function placementRequestOf(name: string, spec: VmSpec): PlacementRequest {
  const ha = spec.ha;
  const groups = groupsOf(spec);
  const topology = topologyRequestOf(spec);
  return {
    vm: name, ...vmClaim({ spec }), ...(ha?.group ? { preferredPools: [ha.group], restrictToPools: ha.restricted === true } : {}),
    ...(groups.length ? { groups, rules: groups.map((group) => ({ kind: 'anti-affinity' as const, target: { group } })) } : {}),
    ...(topology ? { topology } : {}),
  };
}

/** The hosts as scheduler candidates, with what the VMs placed there claim (`except` does not count). */
export function candidatesOf(hosts: readonly (Pick<HostView, 'name' | 'state' | 'capacity' | 'pool'> & Partial<Pick<HostView, 'topology'>>)[], vms: readonly VmRecord[], except?: string): HostCandidate[] {
  return hosts.map((h) => {
    const on = vms.filter((v) => v.host === h.name && v.name !== except && CLAIMING_STATES.has(v.state));
    return { name: h.name, state: h.state, capacity: h.capacity, allocated: sumClaims(on), ...(h.pool ? { pool: h.pool } : {}), ...(h.topology ? { topology: h.topology } : {}), vms: on.map((v) => ({ name: v.name, groups: groupsOf(v.spec) })) };
  });
}

/** Resolves the target against the VMs and explains it. */
export function explainTarget(target: ExplainTarget, hosts: readonly HostView[], vms: readonly VmRecord[], policy: Policy): ScheduleExplainView {
  if ('vm' in target) {
    const rec = vms.find((v) => v.name === target.vm);
    if (!rec) fail('VM_NOT_FOUND', `no VM named ${target.vm} (to explain a VM not yet created, send its spec)`);
    return explainPlacement({ name: rec.name, spec: rec.spec, hosts, vms, policy });
  }
  return explainPlacement({ name: target.spec.name, spec: target.spec, hosts, vms, policy });
}

export function explainPlacement(i: { name: string; spec: VmSpec; hosts: readonly HostView[]; vms: readonly VmRecord[]; policy: Policy }): ScheduleExplainView {
  const request = placementRequestOf(i.name, i.spec);
  const cands = candidatesOf(i.hosts, i.vms, i.name);
  const byName = new Map(cands.map((c) => [c.name, c]));
  const rows = explain(request, cands, i.policy);
  const hosts = rows.map((r): ScheduleExplainHostView => {
    const c = byName.get(r.host)!;
    const refused = r.verdicts.find((v) => !v.pass);
    return {
      host: r.host, state: r.state, pool: r.pool, priority: r.priority,
      capacity: { ...c.capacity }, allocated: { ...c.allocated },
      passed: refused === undefined,
      refusedBy: refused && !refused.pass ? { filter: refused.filter, reason: refused.reason } : null,
      verdicts: r.verdicts.map((v) => (v.pass ? { filter: v.filter, pass: true } : { filter: v.filter, pass: false, reason: v.reason })),
      score: r.score ? { capacity: round(r.score.capacity), affinity: round(r.score.affinity), total: round(r.score.total) } : null,
      chosen: r.chosen,
    };
  });
  return {
    vm: i.name,
    request: { cpus: request.cpus, memoryBytes: request.memoryBytes, diskBytes: request.diskBytes, pool: request.preferredPools?.[0] ?? null, restricted: request.restrictToPools === true },
    policy: { mode: i.policy.mode, overcommit: { ...i.policy.overcommit } },
    chosen: rows.find((r) => r.chosen)?.host ?? null,
    hosts,
  };
}

const round = (n: number): number => Math.round(n * 100) / 100;
