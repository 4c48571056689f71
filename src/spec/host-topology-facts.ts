/**
 * What a host has for CPU/memory topology and devices, as read from sysfs and
 * procfs (drivers/qemu/host-topology-read.ts). A plain object, so the checks
 * against it (topology-host-check.ts) are pure and run on fixtures.
 */
export interface HostHugepages {
  total: number;
  free: number;
}

export interface HostNumaNode {
  id: number;
  cpus: number[];
  memoryBytes: number;
  /** By page size ("2M", "1G"); absent when the kernel offers no pages of that size. */
  hugepages: Partial<Record<'2M' | '1G', HostHugepages>>;
}

export interface HostMdevType {
  /** As sysfs names it, e.g. "nvidia-222". */
  type: string;
  name: string;
  available: number;
}

export interface HostPciDevice {
  /** 0000:01:00.0 */
  address: string;
  /** Lowercase hex without 0x: "10de". */
  vendor: string;
  device: string;
  /** "0x030000" as sysfs writes it. */
  class: string;
  /** The bound driver's name, absent when unbound. */
  driver?: string;
  iommuGroup?: number;
  mdevTypes: HostMdevType[];
}

export interface HostTopologyFacts {
  /** Online host CPUs. */
  cpus: number[];
  nodes: HostNumaNode[];
  /** System-wide hugepages by size. */
  hugepages: Partial<Record<'2M' | '1G', HostHugepages>>;
  pci: HostPciDevice[];
  /** DRM render nodes (/dev/dri/renderD128 …). */
  renderNodes: string[];
}
