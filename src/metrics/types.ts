/**
 * What the exporter reads on each scrape. metrics/ imports only shared/, so
 * these are structural: lifecycle's VmSample and storage's PoolView fit them.
 */

export interface VmMetricSample {
  name: string;
  state: string;
  vcpus: number;
  memoryBytes: number;
  stats: {
    cpuSeconds: number | null;
    vcpuSeconds: Array<{ vcpu: number; seconds: number }>;
    rssBytes: number | null;
    balloonBytes: number | null;
    disks: Array<{
      disk: string; readBytes: number; writeBytes: number; readOps: number; writeOps: number; flushOps: number;
      readSeconds: number; writeSeconds: number;
    }>;
    nics: Array<{ nic: string; rxBytes: number; txBytes: number; rxPackets: number; txPackets: number }>;
    monitorCalls: Array<{ command: string; seconds: number }>;
    /** Guest RAM per host NUMA node and the share on nodes other than its home nodes (drivers' NumaLocality). */
    numa?: { nodes: Array<{ node: number; bytes: number }>; remoteRatio: number } | null;
  } | null;
  statsError: string | null;
}

export interface PoolMetricSample {
  name: string;
  capacityBytes: number;
  freeBytes: number;
  usedBytes: number;
}

/** The finished-operation shape of lifecycle's OperationView. */
export interface OperationMetricSample {
  kind: string;
  vm: string | null;
  status: string;
  createdAt: string;
  finishedAt: string | null;
}

/** A state change as lifecycle's StateKeeper reports it. */
export interface StateChangeSample {
  vm: string;
  from: string;
  to: string;
  reason: string;
}

export interface MetricSources {
  vms(signal: AbortSignal): Promise<VmMetricSample[]>;
  pools?(signal: AbortSignal): Promise<PoolMetricSample[]>;
  /** When each VM's newest backup in the catalogue finished (unix seconds); read at most once a minute. */
  lastBackups?(signal: AbortSignal): Promise<Array<{ vm: string; at: number }>>;
  /** Other endpoints' VMs (from the inventory's cache) and whether each endpoint answered. */
  foreign?(signal: AbortSignal): Promise<{ vms: ForeignVmMetricSample[]; endpoints: EndpointMetricSample[] }>;
  /** The host's NUMA nodes, hugepages and GPUs (the host inventory); read at most every 15 s. */
  hostTopology?(signal: AbortSignal): Promise<HostTopologyMetricSample>;
}

/** The part of spec's HostInventoryView the topology series show (structural: metrics/ imports only shared/). */
export interface HostTopologyMetricSample {
  nodes: Array<{ id: number; memoryBytes: number; freeBytes?: number; hugepages: Partial<Record<string, { total: number; free: number }>> }>;
  gpus: Array<{ address: string; vendorName: string; model: string; driver?: string; iommuGroup?: number; numaNode?: number; mdevTypes: Array<{ type: string; name: string; available: number }> }>;
}

/** The disk mirrors of a finished host-to-host move (drivers' MirrorStats). */
export interface MirrorMetricSample {
  mode: string;
  disks: number;
  switchedToActive: number;
  syncMs: number;
  behindBytes: number;
  convergeMs: number;
}

/** A VM of another endpoint, from the inventory's cache (issue 17: foreign VMs in /metrics with an endpoint label). */
export interface ForeignVmMetricSample {
  endpoint: string;
  driver: string;
  vm: string;
  state: string;
  cpus: number;
  memoryBytes: number;
}

export interface EndpointMetricSample {
  endpoint: string;
  /** The last listing succeeded. */
  up: boolean;
}
