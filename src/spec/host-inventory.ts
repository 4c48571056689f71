/**
 * What `polyvisor host show` and GET /v1/host/inventory answer: the host's
 * topology facts as read from sysfs/procfs, with its GPUs picked out (PCI
 * display controllers, class 0x03xxxx) and named. Pure.
 */
import type { HostCpuInfo, HostHugepages, HostMdevType, HostNumaNode, HostPciDevice, HostTopologyFacts } from './host-topology-facts.js';

/** Vendors of display controllers, for hosts without pci.ids (Debian's pci.ids comes with pciutils). */
const GPU_VENDORS: Readonly<Record<string, string>> = {
  '10de': 'NVIDIA Corporation',
  '1002': 'Advanced Micro Devices, Inc. [AMD/ATI]',
  '8086': 'Intel Corporation',
  '1a03': 'ASPEED Technology, Inc.',
  '102b': 'Matrox Electronics Systems Ltd.',
  '1af4': 'Red Hat, Inc.',
  '1b36': 'Red Hat, Inc.',
  '1234': 'QEMU (Bochs display)',
  '15ad': 'VMware',
  '1013': 'Cirrus Logic',
};

export interface HostGpuView {
  address: string;
  vendor: string;
  device: string;
  vendorName: string;
  /** pci.ids' device name, else "vendor:device". */
  model: string;
  /** vga, 3d (3D controller: compute GPUs such as the T4 and A100), or display. */
  kind: 'vga' | '3d' | 'display';
  driver?: string;
  iommuGroup?: number;
  numaNode?: number;
  memoryBytes?: number;
  mdevTypes: HostMdevType[];
}

export interface HostInventoryView {
  /** The host that answered. */
  host: string;
  readAt: string;
  cpu: HostCpuInfo | null;
  /** Online host CPUs. */
  cpus: number[];
  nodes: HostNumaNode[];
  hugepages: Partial<Record<'2M' | '1G', HostHugepages>>;
  /** True when some PCI device has an IOMMU group (the IOMMU is on). */
  iommu: boolean;
  pci: HostPciDevice[];
  gpus: HostGpuView[];
  renderNodes: string[];
}

const GPU_KINDS: Readonly<Record<string, HostGpuView['kind']>> = { '00': 'vga', '02': '3d' };

export function isGpu(p: Pick<HostPciDevice, 'class'>): boolean {
  return /^(0x)?03/i.test(p.class);
}

export function hostGpus(facts: Pick<HostTopologyFacts, 'pci'>): HostGpuView[] {
  return facts.pci.filter(isGpu).map((p) => ({
    address: p.address,
    vendor: p.vendor,
    device: p.device,
    vendorName: p.vendorName ?? GPU_VENDORS[p.vendor] ?? p.vendor,
    model: p.deviceName ?? `${p.vendor}:${p.device}`,
    kind: GPU_KINDS[p.class.replace(/^0x/i, '').slice(2, 4)] ?? 'display',
    ...(p.driver === undefined ? {} : { driver: p.driver }),
    ...(p.iommuGroup === undefined ? {} : { iommuGroup: p.iommuGroup }),
    ...(p.numaNode === undefined ? {} : { numaNode: p.numaNode }),
    ...(p.memoryBytes === undefined ? {} : { memoryBytes: p.memoryBytes }),
    mdevTypes: p.mdevTypes,
  }));
}

export function hostInventory(host: string, facts: HostTopologyFacts, readAt = new Date()): HostInventoryView {
  return {
    host,
    readAt: readAt.toISOString(),
    cpu: facts.cpu ?? null,
    cpus: facts.cpus,
    nodes: facts.nodes,
    hugepages: facts.hugepages,
    iommu: facts.pci.some((p) => p.iommuGroup !== undefined),
    pci: facts.pci,
    gpus: hostGpus(facts),
    renderNodes: facts.renderNodes,
  };
}
