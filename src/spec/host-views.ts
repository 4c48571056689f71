import type { HostPlacementFacts } from './host-placement-facts.js';

/** What the API says about the hosts of a cluster (or the one host of a single-host daemon). */
export const HOST_STATES = ['ready', 'cordoned', 'draining', 'drained', 'down'] as const;
export type HostStateName = (typeof HOST_STATES)[number];

export interface HostResourcesView {
  cpus: number;
  memoryBytes: number;
  diskBytes: number;
}

export interface HostView {
  name: string;
  /** ready; cordoned (no new VMs, HA skips it); draining (its VMs are being moved off); drained (cordoned, its VMs moved off); down (its lease expired). */
  state: HostStateName;
  capacity: HostResourcesView;
  /** What the VMs that run or are meant to run there claim. */
  allocated: HostResourcesView;
  vms: number;
  /** The host pool (HA group) it belongs to; "" for none. */
  pool: string;
  version: string;
  /** When it joined with its current lease (ready, cordoned, draining) or last joined (down). */
  since: string;
  /** Seconds since it joined with its current lease; null when down. */
  leaseAgeSeconds: number | null;
  /** True for the host that answered. */
  self: boolean;
  /** NUMA nodes, free hugepages and GPUs its agent published for topology-aware placement (issue 22); absent when it published none. */
  topology?: HostPlacementFacts;
}
