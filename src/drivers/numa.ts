/**
 * NUMA locality of a running VM's memory (issue 22, "NUMA balancing"): where
 * on the host its guest RAM sits, and the capability to move it. The QEMU
 * driver reads it from /proc/PID/numa_maps (drivers/qemu/numa-maps.ts) and
 * moves pages with numactl's migratepages; lifecycle/numa-balancer.ts decides
 * when.
 */

export interface NumaLocality {
  /** Resident guest-RAM bytes per host NUMA node (nodes holding none are left out), by node id. */
  nodes: Array<{ node: number; bytes: number }>;
  /** The nodes counted as local: the ones the spec binds guest RAM to, or (unbound) the node holding the most. */
  home: number[];
  /** Whether `home` comes from the spec's binding (true) or from where most pages are (false). */
  bound: boolean;
  /** Bytes on nodes other than `home`. */
  remoteBytes: number;
  /** remoteBytes / all resident guest-RAM bytes; 0 when none is resident. */
  remoteRatio: number;
}

export interface NumaPageMover {
  /** Moves the VM's pages that sit on `from` nodes to `to` nodes (migrate_pages(2) semantics). */
  movePages(from: readonly number[], to: readonly number[], signal: AbortSignal): Promise<void>;
}

export function canMovePages(i: object): i is NumaPageMover {
  return typeof (i as Partial<NumaPageMover>).movePages === 'function';
}
