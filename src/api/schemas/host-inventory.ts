/** Answer of GET /v1/host/inventory (issue 22): the host's topology and devices from sysfs/procfs. */
import { z } from 'zod';
import type { HostInventoryView } from '../../spec/index.js';
import { describes } from './describes.js';

const pages = z.object({ total: z.number().int(), free: z.number().int() });
const pagesBySize = z.object({ '2M': pages.optional(), '1G': pages.optional() }).describe('hugepages by size: pool size and free pages');
const mdevType = z.object({
  type: z.string().describe('as sysfs names it, e.g. nvidia-232'),
  name: z.string(),
  available: z.number().int().describe('available_instances: how many more can be made'),
  description: z.string().optional(),
  framebufferBytes: z.number().int().optional().describe('the framebuffer= of the description'),
});

export const hostInventorySchema = describes<HostInventoryView>()(z.object({
  host: z.string(),
  readAt: z.string(),
  cpu: z.object({
    model: z.string(), vendor: z.string(), flags: z.array(z.string()),
    sockets: z.number().int(), cores: z.number().int(),
  }).nullable().describe('from /proc/cpuinfo; null when unreadable'),
  cpus: z.array(z.number().int()).describe('online host CPUs'),
  nodes: z.array(z.object({
    id: z.number().int(),
    cpus: z.array(z.number().int()),
    memoryBytes: z.number().int(),
    freeBytes: z.number().int().optional(),
    distances: z.array(z.number().int()).optional().describe('this node\'s row of the distance table'),
    hugepages: pagesBySize,
  })),
  hugepages: pagesBySize,
  iommu: z.boolean().describe('some PCI device has an IOMMU group'),
  pci: z.array(z.object({
    address: z.string(), vendor: z.string(), device: z.string(), class: z.string(),
    driver: z.string().optional(), iommuGroup: z.number().int().optional(),
    mdevTypes: z.array(mdevType),
    numaNode: z.number().int().optional(),
    vendorName: z.string().optional(), deviceName: z.string().optional(),
    memoryBytes: z.number().int().optional(),
  })),
  gpus: z.array(z.object({
    address: z.string(), vendor: z.string(), device: z.string(), vendorName: z.string(), model: z.string(),
    kind: z.enum(['vga', '3d', 'display']),
    driver: z.string().optional(), iommuGroup: z.number().int().optional(), numaNode: z.number().int().optional(),
    memoryBytes: z.number().int().optional().describe('video memory, where the driver tells it in sysfs'),
    mdevTypes: z.array(mdevType),
  })),
  renderNodes: z.array(z.string()),
}).meta({ id: 'HostInventory', description: 'NUMA nodes, hugepages, CPU, PCI devices with IOMMU groups and drivers, GPUs with mdev types' }));
