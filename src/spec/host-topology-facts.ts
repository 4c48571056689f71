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
  /** MemFree of the node when read (absent on a kernel without NUMA: then the host's MemFree). */
  freeBytes?: number;
  /** This node's row of the SLIT distance table (10 for itself), when sysfs has it. */
  distances?: number[];
  /** By page size ("2M", "1G"); absent when the kernel offers no pages of that size. */
  hugepages: Partial<Record<'2M' | '1G', HostHugepages>>;
}

export interface HostMdevType {
  /** As sysfs names it, e.g. "nvidia-222". */
  type: string;
  name: string;
  available: number;
  /** The driver's description, e.g. "num_heads=4, framebuffer=4096M, …". */
  description?: string;
  /** The `framebuffer=` of the description, in bytes (NVIDIA vGPU types say it there). */
  framebufferBytes?: number;
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
  /** The host NUMA node the device hangs off (sysfs numa_node; absent when -1 or unknown). */
  numaNode?: number;
  /** Names from the PCI ID database (pci.ids) when the host has it and the reader was asked for names. */
  vendorName?: string;
  deviceName?: string;
  /** Video memory as the driver tells it in sysfs (amdgpu's mem_info_vram_total); absent when sysfs does not say. */
  memoryBytes?: number;
}

/** The host CPU as /proc/cpuinfo describes it (x86: model name, vendor_id, flags). */
export interface HostCpuInfo {
  model: string;
  vendor: string;
  flags: string[];
  /** Distinct physical ids (packages). */
  sockets: number;
  /** Distinct (physical id, core id) pairs. */
  cores: number;
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
  /** Absent when /proc/cpuinfo cannot be read. */
  cpu?: HostCpuInfo;
}
