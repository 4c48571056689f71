import { describe, expect, it } from 'vitest';
import type { HostInventoryView } from '../client/index.js';
import { inventoryText } from './host-show.js';

const GiB = 1024 ** 3;
/** A GPU host as GET /v1/host/inventory answers it (the fixture gpu-iommu, cut down). */
const inv: HostInventoryView = {
  host: 'gpu1', readAt: '2026-12-05T17:00:00.000Z',
  cpu: { model: 'Intel(R) Xeon(R) W-2145 CPU @ 3.70GHz', vendor: 'GenuineIntel', flags: ['fpu', 'vmx', 'avx2', 'avx512f', 'pdpe1gb'], sockets: 1, cores: 8 },
  cpus: Array.from({ length: 16 }, (_, i) => i),
  nodes: [{ id: 0, cpus: Array.from({ length: 16 }, (_, i) => i), memoryBytes: 188 * GiB, freeBytes: 171 * GiB, hugepages: { '2M': { total: 0, free: 0 } } }],
  hugepages: { '2M': { total: 0, free: 0 } },
  iommu: true,
  pci: [{ address: '0000:3b:00.0', vendor: '10de', device: '1eb8', class: '0x030200', driver: 'nvidia', iommuGroup: 40, numaNode: 0, vendorName: 'NVIDIA Corporation', deviceName: 'TU104GL [Tesla T4]', mdevTypes: [] }],
  gpus: [{
    address: '0000:3b:00.0', vendor: '10de', device: '1eb8', vendorName: 'NVIDIA Corporation', model: 'TU104GL [Tesla T4]', kind: '3d', driver: 'nvidia', iommuGroup: 40, numaNode: 0,
    mdevTypes: [{ type: 'nvidia-232', name: 'GRID T4-4Q', available: 3, framebufferBytes: 4 * GiB }],
  }],
  renderNodes: [],
};

describe('host show', () => {
  it('prints the CPU with its notable flags, nodes, GPUs with mdev types and PCI devices', () => {
    const t = inventoryText(inv);
    expect(t).toContain('CPU: Intel(R) Xeon(R) W-2145 CPU @ 3.70GHz (GenuineIntel): 1 socket, 8 cores, 16 online (0-15)');
    expect(t).toContain('flags: 5 (vmx avx2 avx512f pdpe1gb)');
    expect(t).toContain('IOMMU: on');
    expect(t).toMatch(/0000:3b:00.0\s+NVIDIA Corporation\s+TU104GL \[Tesla T4\]\s+3d\s+nvidia\s+40\s+0/);
    expect(t).toMatch(/nvidia-232\s+GRID T4-4Q\s+3\s+4(\.0)? GiB/);
    expect(t).toMatch(/^0\s+0-15\s+188(\.0)? GiB\s+171(\.0)? GiB\s+0\/0\s+-\s+-/m);
  });

  it('says when there is no IOMMU and no GPU', () => {
    const t = inventoryText({ ...inv, iommu: false, gpus: [], pci: [], cpu: null });
    expect(t).toContain('IOMMU: off (no device has an IOMMU group: no PCI passthrough)');
    expect(t).toContain('GPUs: none');
    expect(t).toContain('/proc/cpuinfo not readable');
  });
});
