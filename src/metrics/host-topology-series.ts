/**
 * The host's topology and devices as series (issue 22): memory, free memory
 * and hugepages per NUMA node, free mdev instances per GPU and type, one
 * info series per GPU. Fed from the host inventory (sysfs), read at most
 * every READ_EVERY_MS so a scrape does not walk sysfs each time.
 */
import { Gauge, type Registry } from 'prom-client';
import type { HostTopologyMetricSample } from './types.js';

export const TOPOLOGY_READ_EVERY_MS = 15_000;

export class HostTopologySeries {
  private readonly nodeMemory: Gauge;
  private readonly nodeFree: Gauge;
  private readonly pagesTotal: Gauge;
  private readonly pagesFree: Gauge;
  private readonly mdevAvailable: Gauge;
  private readonly gpuInfo: Gauge;

  constructor(registry: Registry) {
    const g = (name: string, help: string, labelNames: string[]) => new Gauge({ name, help, labelNames, registers: [registry] });
    this.nodeMemory = g('polyvisor_host_numa_node_memory_bytes', 'Memory of each host NUMA node (sysfs node meminfo MemTotal)', ['node']);
    this.nodeFree = g('polyvisor_host_numa_node_free_bytes', 'Free memory of each host NUMA node (MemFree)', ['node']);
    this.pagesTotal = g('polyvisor_host_hugepages_total', 'Hugepages reserved on each host NUMA node, by page size', ['node', 'size']);
    this.pagesFree = g('polyvisor_host_hugepages_free', 'Free hugepages on each host NUMA node, by page size', ['node', 'size']);
    this.mdevAvailable = g('polyvisor_host_mdev_available_instances', 'Mediated devices of a type that a parent device can still make (available_instances)', ['device', 'type', 'name']);
    this.gpuInfo = g('polyvisor_host_gpu_info', 'One series per host GPU (PCI display controller) with its model, driver and IOMMU group', ['device', 'vendor', 'model', 'driver', 'iommu_group', 'node']);
  }

  update(s: HostTopologyMetricSample): void {
    for (const x of [this.nodeMemory, this.nodeFree, this.pagesTotal, this.pagesFree, this.mdevAvailable, this.gpuInfo]) x.reset();
    for (const n of s.nodes) {
      const node = String(n.id);
      this.nodeMemory.set({ node }, n.memoryBytes);
      if (n.freeBytes !== undefined) this.nodeFree.set({ node }, n.freeBytes);
      for (const [size, p] of Object.entries(n.hugepages)) {
        if (!p) continue;
        this.pagesTotal.set({ node, size }, p.total);
        this.pagesFree.set({ node, size }, p.free);
      }
    }
    for (const gpu of s.gpus) {
      this.gpuInfo.set({ device: gpu.address, vendor: gpu.vendorName, model: gpu.model, driver: gpu.driver ?? '', iommu_group: gpu.iommuGroup === undefined ? '' : String(gpu.iommuGroup), node: gpu.numaNode === undefined ? '' : String(gpu.numaNode) }, 1);
      for (const t of gpu.mdevTypes) this.mdevAvailable.set({ device: gpu.address, type: t.type, name: t.name }, t.available);
    }
  }
}
