/**
 * What a host publishes for topology-aware placement (issue 22): its NUMA
 * nodes' sizes and free hugepages, its GPUs with whether they can be passed
 * through and their free mdev instances. Made from the host inventory; the
 * cluster scheduler's numa, hugepages and devices filters read it. Pure.
 */
import type { HostInventoryView } from './host-inventory.js';
import { GROUP_SAFE_DRIVERS } from './topology-host-check.js';

export interface HostPlacementFacts {
  nodes: Array<{ id: number; cpus: number; memoryBytes: number; hugepages?: Partial<Record<'2M' | '1G', number>> }>;
  gpus: Array<{ address: string; model: string; free: boolean; mdev?: Record<string, number> }>;
}

/** `inUse`: PCI addresses VMs of this host hold. A GPU is free when it and every other device of its IOMMU group can go to a VM. */
export function placementFactsOf(inv: Pick<HostInventoryView, 'nodes' | 'pci' | 'gpus'>, inUse: ReadonlySet<string> = new Set()): HostPlacementFacts {
  const groupFree = (address: string, group: number | undefined): boolean => group !== undefined && inv.pci
    .filter((p) => p.iommuGroup === group && p.address !== address)
    .every((p) => !inUse.has(p.address) && (p.driver === undefined || GROUP_SAFE_DRIVERS.has(p.driver)));
  return {
    nodes: inv.nodes.map((n) => {
      const pages: Partial<Record<'2M' | '1G', number>> = {};
      for (const size of ['2M', '1G'] as const) if (n.hugepages[size]) pages[size] = n.hugepages[size].free;
      return { id: n.id, cpus: n.cpus.length, memoryBytes: n.memoryBytes, ...(Object.keys(pages).length ? { hugepages: pages } : {}) };
    }),
    gpus: inv.gpus.map((g) => ({
      address: g.address,
      model: `${g.vendor}:${g.device}`,
      free: g.driver === 'vfio-pci' && !inUse.has(g.address) && groupFree(g.address, g.iommuGroup),
      ...(g.mdevTypes.length ? { mdev: Object.fromEntries(g.mdevTypes.map((t) => [t.type, t.available])) } : {}),
    })),
  };
}
