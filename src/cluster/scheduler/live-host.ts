/**
 * A host as the scheduler works on it: the HostCandidate's facts plus
 * allocations, VM names and group counts that placements update. schedule()
 * builds these from candidates; placeAll() keeps them and updates them as it
 * places. Pure (in-memory).
 */
import { LiveTopology } from './live-topology.js';
import type { HostCandidate, HostState, PlacementRequest, Resources } from './types.js';

export class LiveHost {
  readonly name: string;
  readonly state: HostState;
  readonly capacity: Resources;
  readonly labels: Readonly<Record<string, string>>;
  readonly pool: string;
  readonly priority: number;
  readonly storage: ReadonlySet<string>;
  cpus: number;
  memoryBytes: number;
  diskBytes: number;
  readonly vms = new Set<string>();
  /** Group name → number of this host's VMs in it. */
  readonly groups = new Map<string, number>();
  /** NUMA nodes, hugepages and devices as placements use them up (absent: the host published none). */
  readonly topology: LiveTopology | undefined;

  constructor(c: HostCandidate) {
    this.name = c.name;
    this.state = c.state;
    this.capacity = c.capacity;
    this.labels = c.labels ?? {};
    this.pool = c.pool ?? '';
    this.priority = c.priority ?? 0;
    this.storage = new Set(c.storage ?? []);
    this.cpus = c.allocated.cpus;
    this.memoryBytes = c.allocated.memoryBytes;
    this.diskBytes = c.allocated.diskBytes;
    this.topology = c.topology ? new LiveTopology(c.topology) : undefined;
    for (const vm of c.vms ?? []) this.addVm(vm.name, vm.groups ?? []);
  }

  private addVm(name: string, groups: readonly string[]): void {
    this.vms.add(name);
    for (const g of groups) this.groups.set(g, (this.groups.get(g) ?? 0) + 1);
  }

  /** Records the request as placed here. */
  place(req: PlacementRequest): void {
    this.cpus += req.cpus;
    this.memoryBytes += req.memoryBytes;
    this.diskBytes += req.diskBytes;
    if (req.topology) this.topology?.place({ cpus: req.cpus, memoryBytes: req.memoryBytes }, req.topology);
    this.addVm(req.vm, req.groups ?? []);
  }

  /** True when nothing is allocated (an unused host, for pack scoring). */
  get empty(): boolean {
    return this.cpus === 0 && this.memoryBytes === 0 && this.diskBytes === 0;
  }
}

/** Where VMs and groups are, across the hosts given: what affinity rules look up. */
export interface Whereabouts {
  /** The host running VM `name`, if any. */
  hostOf(vm: string): string | undefined;
  /** Whether any host runs a VM of the group. */
  groupPlaced(group: string): boolean;
}

export function whereaboutsOf(hosts: readonly LiveHost[]): Whereabouts {
  const vmHost = new Map<string, string>();
  const groups = new Set<string>();
  for (const h of hosts) {
    for (const vm of h.vms) vmHost.set(vm, h.name);
    for (const [g, n] of h.groups) if (n > 0) groups.add(g);
  }
  return { hostOf: (vm) => vmHost.get(vm), groupPlaced: (g) => groups.has(g) };
}
