/**
 * The HA manager's decision, pure: which HA VMs of lost hosts restart where,
 * which must still wait, and which cannot. A host is lost when its lease key
 * is gone; the manager waits FENCE_MARGIN_MS more after it first sees that
 * (the host's watchdog has killed the VMs by the time the lease expired; the
 * margin covers its tick and the kill), then places the VMs with the same
 * scheduler as `--host auto`, highest `ha.priority` first.
 */
import type { VmState } from '../spec/index.js';
import { placeAll } from './scheduler/index.js';
import type { AffinityRule, HostCandidate, PlacementRequest, Policy } from './scheduler/index.js';

/** States in which an HA VM is meant to run: a lost host's VMs in these restart elsewhere. */
export const HA_RESTART_STATES: ReadonlySet<VmState> = new Set<VmState>(['running', 'paused', 'starting']);

export interface HaVm {
  name: string;
  host: string;
  state: VmState;
  /** The VM record's generation: the restart is a compare-and-set on it. */
  generation: number;
  cpus: number;
  memoryBytes: number;
  diskBytes: number;
  priority: number;
  group?: string;
  restricted: boolean;
  maxRestarts: number;
  /** Restarts by HA within the last hour. */
  recentRestarts: number;
  groups?: readonly string[];
  /** (Anti-)affinity rules (from the label `anti-affinity: GROUP`). */
  rules?: readonly AffinityRule[];
}

export interface HaPlanInput {
  vms: readonly HaVm[];
  /** Live hosts (lease alive), with what their VMs claim in `allocated`. */
  hosts: readonly HostCandidate[];
  /** Lost host → when (ms) the manager first saw its lease gone. */
  lostSince: ReadonlyMap<string, number>;
  now: number;
  marginMs: number;
  /** VMs with a restart already decided and not yet carried out. */
  pending: ReadonlySet<string>;
  policy: Policy;
}

export interface HaRestart { vm: string; from: string; to: string; generation: number }
export interface HaWaiting { vm: string; from: string; restartAt: number }
export interface HaStuck { vm: string; from: string; why: string }

export interface HaPlan {
  restarts: HaRestart[];
  waiting: HaWaiting[];
  stuck: HaStuck[];
}

export function planFailover(i: HaPlanInput): HaPlan {
  const alive = new Set(i.hosts.map((h) => h.name));
  const plan: HaPlan = { restarts: [], waiting: [], stuck: [] };
  const due: HaVm[] = [];
  for (const vm of i.vms) {
    if (alive.has(vm.host) || !HA_RESTART_STATES.has(vm.state) || i.pending.has(vm.name)) continue;
    const since = i.lostSince.get(vm.host) ?? i.now;
    if (i.now < since + i.marginMs) {
      plan.waiting.push({ vm: vm.name, from: vm.host, restartAt: since + i.marginMs });
      continue;
    }
    if (vm.recentRestarts >= vm.maxRestarts) {
      plan.stuck.push({ vm: vm.name, from: vm.host, why: `restarted ${vm.recentRestarts} times within the hour (maxRestarts ${vm.maxRestarts}): HA leaves it stopped` });
      continue;
    }
    due.push(vm);
  }
  due.sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
  const requests: PlacementRequest[] = due.map((vm) => ({
    vm: vm.name, cpus: vm.cpus, memoryBytes: vm.memoryBytes, diskBytes: vm.diskBytes,
    ...(vm.groups ? { groups: vm.groups } : {}),
    ...(vm.rules ? { rules: vm.rules } : {}),
    ...(vm.group ? { preferredPools: [vm.group], restrictToPools: vm.restricted } : {}),
  }));
  const { placements } = placeAll(requests, i.hosts, i.policy);
  placements.forEach((p, k) => {
    const vm = due[k]!;
    if (p.host !== null) plan.restarts.push({ vm: vm.name, from: vm.host, to: p.host, generation: vm.generation });
    else {
      const by = Object.entries(p.rejectedBy).map(([f, n]) => `${f} ${n}`).join(', ');
      plan.stuck.push({ vm: vm.name, from: vm.host, why: `no live host fits it${by ? ` (hosts rejected by ${by})` : ''}` });
    }
  });
  return plan;
}
