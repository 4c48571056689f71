import { describe, expect, it } from 'vitest';
import type { HostInventoryView } from './host-inventory.js';
import { placementFactsOf } from './host-placement-facts.js';
import { validateSpec } from './parse.js';

type Pci = HostInventoryView['pci'][number];
const pci = (address: string, driver: string | undefined, iommuGroup: number, vendor = '10de', device = '1db6'): Pci => ({ address, vendor, device, class: '0x030200', ...(driver ? { driver } : {}), iommuGroup, mdevTypes: [] });
const gpu = (p: Pci, mdevTypes: Pci['mdevTypes'] = []) => ({ address: p.address, vendor: p.vendor, device: p.device, vendorName: 'NVIDIA Corporation', model: 'V100', kind: '3d' as const, ...(p.driver ? { driver: p.driver } : {}), iommuGroup: p.iommuGroup!, mdevTypes });

describe('placementFactsOf (what a host publishes for the scheduler)', () => {
  it('node sizes and free pages; a GPU is free on vfio-pci with its group clear, not when held, on a host driver or sharing a used group', () => {
    const devs = [pci('0000:87:00.0', 'vfio-pci', 81), pci('0000:af:00.0', 'nvidia', 90), pci('0000:d8:00.0', 'vfio-pci', 95), pci('0000:d8:00.1', 'snd_hda_intel', 95, '10de', '10f0'), pci('0000:3b:00.0', 'nvidia', 40, '10de', '1eb8')];
    const inv = {
      nodes: [{ id: 0, cpus: [0, 1, 2, 3], memoryBytes: 64, hugepages: { '2M': { total: 512, free: 500 } } }, { id: 1, cpus: [4, 5], memoryBytes: 32, hugepages: {} }],
      pci: devs,
      gpus: [gpu(devs[0]!), gpu(devs[1]!), gpu(devs[2]!), gpu(devs[4]!, [{ type: 'nvidia-232', name: 'GRID T4-4Q', available: 3 }])],
    };
    expect(placementFactsOf(inv)).toEqual({
      nodes: [{ id: 0, cpus: 4, memoryBytes: 64, hugepages: { '2M': 500 } }, { id: 1, cpus: 2, memoryBytes: 32 }],
      gpus: [
        { address: '0000:87:00.0', model: '10de:1db6', free: true },
        { address: '0000:af:00.0', model: '10de:1db6', free: false },
        { address: '0000:d8:00.0', model: '10de:1db6', free: false },
        { address: '0000:3b:00.0', model: '10de:1eb8', free: false, mdev: { 'nvidia-232': 3 } },
      ],
    });
    expect(placementFactsOf(inv, new Set(['0000:87:00.0'])).gpus[0]!.free).toBe(false);
  });

  it('memory.singleHostNode is a v2 memory field, kept in memoryLayout', () => {
    const s = validateSpec({ name: 'db', boot: { kernel: '/k' }, memory: { size: '8Gi', singleHostNode: true } });
    expect(s.memoryLayout).toEqual({ singleHostNode: true });
    expect(() => validateSpec({ version: 1, name: 'db', boot: { kernel: '/k' }, memory: { size: '8Gi', singleHostNode: true } })).toThrow(/version 2/);
  });
});
