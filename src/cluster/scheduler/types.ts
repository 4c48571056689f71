/**
 * The scheduler's inputs and outputs (docs/scheduler.md). Pure data: the
 * cluster layer fills HostCandidate from what host agents publish, and a
 * PlacementRequest from a VM spec.
 */

export type HostState = 'ready' | 'cordoned' | 'draining' | 'drained' | 'down';

/** CPUs (vCPUs), memory and disk in bytes. */
export interface Resources {
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly diskBytes: number;
}

/** A VM already running (or placed) on a host, with the groups it belongs to. */
export interface HostVm {
  readonly name: string;
  readonly groups?: readonly string[];
}

export interface HostCandidate {
  readonly name: string;
  readonly state: HostState;
  /** Physical capacity; the policy's overcommit ratios multiply it. */
  readonly capacity: Resources;
  /** What placed VMs already claim. */
  readonly allocated: Resources;
  readonly labels?: Readonly<Record<string, string>>;
  /** Host pool (like a Proxmox HA group); hosts without one form the pool "". */
  readonly pool?: string;
  /** Priority tier inside the pool: higher is preferred (Proxmox HA group priorities). Default 0. */
  readonly priority?: number;
  /** Names of the storage pools this host reaches. */
  readonly storage?: readonly string[];
  readonly vms?: readonly HostVm[];
  /** NUMA nodes, free hugepages and devices, as the host's agent published them (absent: it published none). */
  readonly topology?: HostTopology;
}

export type HugepageSize = '2M' | '1G';

/** What a host offers to topology-aware placement, from its inventory (docs/scheduler.md). */
export interface HostTopology {
  readonly nodes: readonly {
    readonly id: number;
    /** Host CPUs in the node. */
    readonly cpus: number;
    readonly memoryBytes: number;
    /** Free hugepages by size when published. */
    readonly hugepages?: Partial<Record<HugepageSize, number>>;
  }[];
  /** GPUs (PCI display controllers). */
  readonly gpus: readonly {
    readonly address: string;
    /** "vendor:device", lowercase hex: 10de:1eb8. */
    readonly model: string;
    /** Bound to vfio-pci and held by no VM, its IOMMU group free of host-used devices: it can be passed through. */
    readonly free: boolean;
    /** Free instances per mdev type. */
    readonly mdev?: Readonly<Record<string, number>>;
  }[];
}

/** What a VM asks of a host's topology (from its spec: memory.numa, memory.hugepages, devices). */
export interface TopologyRequest {
  /** Every vCPU and all memory inside one host NUMA node. */
  readonly singleNode?: boolean;
  /** Hugepages backing: page size, pages needed, and the host node they must come from, if bound. */
  readonly hugepages?: { readonly size: HugepageSize; readonly pages: number; readonly node?: number };
  /** Whole GPUs (or PCI devices), each a "vendor:device" model or a PCI address. */
  readonly gpus?: readonly string[];
  /** Mediated devices, one instance per entry, by type. */
  readonly mdevTypes?: readonly string[];
}

/** A VM or a group, the other side of an (anti-)affinity rule. */
export type AffinityTarget = { readonly vm: string } | { readonly group: string };

export interface AffinityRule {
  readonly kind: 'affinity' | 'anti-affinity';
  readonly target: AffinityTarget;
  /** Hard rules filter hosts out; soft rules only move the score (default: hard). */
  readonly hard?: boolean;
  /** Score points per matching VM on the host, for soft rules (default: policy.weights.softAffinity). */
  readonly weight?: number;
}

export interface PlacementRequest {
  readonly vm: string;
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly diskBytes: number;
  /** The storage pool the VM's disks live on; the host must reach it. */
  readonly storagePool?: string;
  /** Kubernetes-style label selector: `k=v,k!=v,k in (a,b),k notin (a,b),k,!k`. */
  readonly selector?: string;
  /** Groups this VM belongs to (what other VMs' group rules refer to). */
  readonly groups?: readonly string[];
  readonly rules?: readonly AffinityRule[];
  /** Host pools in order of preference; hosts in other pools come last. */
  readonly preferredPools?: readonly string[];
  /** Only hosts in preferredPools may run the VM (Proxmox's "restricted" HA group). */
  readonly restrictToPools?: boolean;
  /** NUMA fit, hugepages and devices (absent: no such needs). */
  readonly topology?: TopologyRequest;
}

export type ScoreMode = 'pack' | 'spread';

export interface Policy {
  /** Allocatable = capacity × ratio, per resource. */
  readonly overcommit: { readonly cpu: number; readonly memory: number; readonly disk: number };
  /** pack: best fit, fewest hosts in use; spread: most room left. */
  readonly mode: ScoreMode;
  readonly weights: {
    readonly cpu: number;
    readonly memory: number;
    readonly disk: number;
    /** Default score points per matching VM for soft (anti-)affinity rules. */
    readonly softAffinity: number;
  };
}

export type FilterName =
  | 'state' | 'cpu' | 'memory' | 'disk' | 'selector' | 'storage' | 'pool' | 'numa' | 'hugepages' | 'devices' | 'affinity' | 'anti-affinity' | 'tier';

export type Verdict =
  | { readonly filter: FilterName; readonly pass: true }
  | { readonly filter: FilterName; readonly pass: false; readonly reason: string };

export interface ScoreBreakdown {
  /** Capacity score, 0..100 (pack or spread). */
  readonly capacity: number;
  /** Sum of soft (anti-)affinity points. */
  readonly affinity: number;
  readonly total: number;
}

/** One host as `polyvisor schedule explain VM` shows it. */
export interface ExplainRow {
  readonly host: string;
  readonly state: HostState;
  readonly pool: string;
  readonly priority: number;
  /** Every filter's verdict, in the order they run. */
  readonly verdicts: readonly Verdict[];
  /** Present when every filter passed. */
  readonly score?: ScoreBreakdown;
  readonly chosen: boolean;
}

export interface Rejection {
  readonly host: string;
  readonly filter: FilterName;
  readonly reason: string;
}

export type ScheduleResult =
  | { readonly ok: true; readonly vm: string; readonly host: string; readonly score: ScoreBreakdown }
  | { readonly ok: false; readonly vm: string; readonly code: 'NO_HOST_FITS'; readonly rejected: readonly Rejection[] };
