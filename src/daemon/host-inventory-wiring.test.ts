/**
 * What a host publishes for the scheduler, read from sysfs FIXTURE trees
 * (test/fixtures/host-sysfs/; no passthrough-capable hardware here) and from
 * this machine, read only.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostInventoryReader, hostPlacementFacts } from './host-inventory-wiring.js';

const FIX = path.resolve(import.meta.dirname, '..', '..', 'test', 'fixtures', 'host-sysfs');

describe('host placement facts', () => {
  it('the 2-node server: node sizes and free pages; the V100 on vfio-pci alone in its group is free, the one on nvidia is not', async () => {
    const f = await hostPlacementFacts(path.join(FIX, 'numa-2node'));
    expect(f.nodes).toEqual([
      { id: 0, cpus: 16, memoryBytes: 65842292 * 1024, hugepages: { '2M': 512, '1G': 4 } },
      { id: 1, cpus: 16, memoryBytes: 66058900 * 1024, hugepages: { '2M': 100, '1G': 0 } },
    ]);
    expect(f.gpus).toEqual([
      { address: '0000:03:00.0', model: '1a03:2000', free: false },
      { address: '0000:87:00.0', model: '10de:1db6', free: true },
      { address: '0000:af:00.0', model: '10de:1db6', free: false },
    ]);
  });

  it('the GPU host: the GTX 1080 shares its group with audio on snd_hda_intel (not free); the T4 offers its vGPU instances', async () => {
    const f = await hostPlacementFacts(path.join(FIX, 'gpu-iommu'));
    expect(f.gpus.find((g) => g.address === '0000:01:00.0')).toEqual({ address: '0000:01:00.0', model: '10de:1b80', free: false });
    expect(f.gpus.find((g) => g.address === '0000:3b:00.0')!.mdev).toEqual({ 'nvidia-222': 0, 'nvidia-223': 0, 'nvidia-230': 0, 'nvidia-231': 0, 'nvidia-232': 3, 'nvidia-233': 1 });
  });

  it('this machine, read only: as many nodes as the inventory, and the inventory reader names the host', async () => {
    const [f, inv] = await Promise.all([hostPlacementFacts(), hostInventoryReader('self')()]);
    expect(f.nodes.map((n) => n.id)).toEqual(inv.nodes.map((n) => n.id));
    expect(inv.host).toBe('self');
  });
});
