/**
 * The host-facts reader and the spec's host checks, on sysfs FIXTURES of real
 * host kinds (test/fixtures/host-sysfs/: a 2-node NUMA server, a GPU host with
 * IOMMU groups and an NVIDIA T4 with mdev types). No test machine here has a
 * GPU or an IOMMU: passthrough is shown only against these trees.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkAgainstHost, validateSpec, type VmSpecInput } from '../../spec/index.js';
import { readHostTopology } from './host-topology-read.js';

const FIX = path.resolve(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'host-sysfs');
const spec = (extra: Partial<VmSpecInput>) => validateSpec({ name: 'db', boot: { kernel: '/k' }, ...extra });

describe('readHostTopology on fixture trees', () => {
  it('a 2-node NUMA server: CPUs, nodes with memory and hugepages per size', async () => {
    const h = await readHostTopology(path.join(FIX, 'numa-2node'));
    expect(h.cpus).toHaveLength(32);
    expect(h.nodes.map((n) => [n.id, n.cpus.length, n.memoryBytes])).toEqual([[0, 16, 65842292 * 1024], [1, 16, 66058900 * 1024]]);
    expect(h.nodes[1]!.cpus.slice(0, 3)).toEqual([8, 9, 10]);
    expect(h.nodes[1]!.hugepages).toEqual({ '2M': { total: 512, free: 100 }, '1G': { total: 0, free: 0 } });
    expect(h.hugepages['2M']).toEqual({ total: 1024, free: 612 });
    expect(h.pci.map((p) => p.address)).toContain('0000:87:00.0');
  });

  it('a GPU host: PCI devices with drivers, IOMMU groups, mdev types, render nodes', async () => {
    const h = await readHostTopology(path.join(FIX, 'gpu-iommu'));
    expect(h.pci.find((p) => p.address === '0000:01:00.1')).toEqual({ address: '0000:01:00.1', vendor: '10de', device: '10f0', class: '0x040300', driver: 'snd_hda_intel', iommuGroup: 1, numaNode: 0, mdevTypes: [] });
    const t4 = h.pci.find((p) => p.device === '1eb8')!;
    expect(t4.mdevTypes.find((t) => t.type === 'nvidia-232')).toMatchObject({ type: 'nvidia-232', name: 'GRID T4-4Q', available: 3 });
    expect(h.pci.find((p) => p.address === '0000:00:00.0')!.driver).toBeUndefined();
    expect(h.renderNodes).toEqual(['/dev/dri/renderD128']);
    expect(h.nodes).toHaveLength(1);
  });

  it('this host (read-only): every online CPU is in some node', async () => {
    const h = await readHostTopology('/');
    expect(h.cpus.length).toBeGreaterThan(0);
    expect(h.nodes.flatMap((n) => n.cpus).sort((a, b) => a - b)).toEqual(h.cpus);
  });
});

describe('checkAgainstHost (fixtures)', () => {
  it('the NUMA server: pinned CPUs, guest nodes against host nodes, hugepages; each problem names the host value', async () => {
    const h = await readHostTopology(path.join(FIX, 'numa-2node'));
    const ok = spec({ cpu: { count: 4, pinning: { vcpus: { 0: '8', 1: '9' }, emulator: '0-1' } }, memory: { size: '2Gi', numa: [{ cpus: '0-1', memory: '1Gi', hostNodes: '0' }, { cpus: '2-3', memory: '1Gi', hostNodes: '1' }] } });
    expect(checkAgainstHost(ok, h).problems).toEqual([]);
    const bad = spec({
      cpu: { count: 2, pinning: { vcpus: { 1: '30-33' }, emulator: '40' } },
      memory: { size: '80Gi', numa: [{ cpus: '0', memory: '70Gi', hostNodes: '1' }, { cpus: '1', memory: '10Gi', hostNodes: '2' }] },
    });
    expect(checkAgainstHost(bad, h).problems).toEqual([
      { field: 'cpu.pinning.vcpus.1', message: 'host CPUs 32-33 do not exist: this host has CPUs 0-31 (32 online)' },
      { field: 'cpu.pinning.emulator', message: 'host CPU 40 does not exist: this host has CPUs 0-31 (32 online)' },
      { field: 'memory.numa.0.memory', message: '70Gi is more than host node 1 has (66058900Ki)' },
      { field: 'memory.numa.1.hostNodes', message: 'host node 2 does not exist: this host has nodes 0-1' },
    ]);
    const pages = spec({ cpu: { count: 2 }, memory: { size: '1Gi', hugepages: { size: '2M' }, numa: [{ cpus: '0', memory: '512Mi', hostNodes: '0' }, { cpus: '1', memory: '512Mi', hostNodes: '1' }] } });
    expect(checkAgainstHost(pages, h).problems).toEqual([{ field: 'memory.numa.1.memory', message: 'needs 256 free 2M hugepages, host node 1 has 100 free of 512 (raise vm.nr_hugepages)' }]);
    expect(checkAgainstHost(spec({ memory: { size: '2Gi', hugepages: { size: '1G', hostNode: 1 } } }), h).problems).toEqual([
      { field: 'memory.hugepages', message: 'needs 2 free 1G hugepages, host node 1 has 0 free of 0 (raise vm.nr_hugepages)' },
    ]);
    expect(checkAgainstHost(spec({ memory: { size: '2Gi', hugepages: { size: '1G', hostNode: 0 } } }), h).problems).toEqual([]);
  });

  it('the GPU host: an IOMMU group with a device the host uses is refused; the whole group is accepted', async () => {
    const h = await readHostTopology(path.join(FIX, 'gpu-iommu'));
    const alone = checkAgainstHost(spec({ devices: { gpu: { kind: 'passthrough', pci: '0000:01:00.0' } } }), h);
    expect(alone.problems).toEqual([{
      field: 'devices.gpu.pci',
      message: 'IOMMU group 1 of 0000:01:00.0 also holds 0000:01:00.1 (driver snd_hda_intel), which the host uses: give it to the VM too, or bind it to vfio-pci',
    }]);
    const both = checkAgainstHost(spec({ devices: { gpu: { kind: 'passthrough', pci: '10de:1b80' }, hostdev: [{ pci: '0000:01:00.1' }] } }), h);
    // 01:00.1 is still on snd_hda_intel: the group is whole now, but that device must be on vfio-pci itself.
    expect(both.problems).toEqual([{ field: 'devices.hostdev.0.pci', message: '0000:01:00.1 is bound to the host driver snd_hda_intel, not vfio-pci: bind it to vfio-pci first (driverctl set-override 0000:01:00.1 vfio-pci)' }]);
    expect(both.devices).toEqual({ hostdev: ['0000:01:00.1'], gpu: '0000:01:00.0' });
    expect(checkAgainstHost(spec({ devices: { hostdev: [{ pci: '0000:01:00.0' }] } }), h, new Set(['0000:01:00.0'])).problems[0]!.message).toBe('0000:01:00.0 is already given to another VM of this host');
  });

  it('vendor:device selectors pick a free vfio-pci device; mdev types need a free instance', async () => {
    const h = await readHostTopology(path.join(FIX, 'gpu-iommu'));
    const nic = checkAgainstHost(spec({ devices: { hostdev: [{ pci: '8086:1572' }] } }), h);
    expect(nic).toEqual({ problems: [], devices: { hostdev: ['0000:5e:00.1'] } });
    expect(checkAgainstHost(spec({ devices: { hostdev: [{ pci: '8086:1572' }, { pci: '8086:1572' }] } }), h).problems[0]!.message)
      .toBe('0000:5e:00.0 is bound to the host driver i40e, not vfio-pci: bind it to vfio-pci first (driverctl set-override 0000:5e:00.0 vfio-pci)');
    expect(checkAgainstHost(spec({ devices: { hostdev: [{ pci: '1002:67df' }] } }), h).problems[0]!.message).toBe('this host has no PCI device 1002:67df');
    const vgpu = checkAgainstHost(spec({ devices: { gpu: { kind: 'mediated', mdevType: 'nvidia-232' } } }), h);
    expect(vgpu).toEqual({ problems: [], devices: { hostdev: [], gpu: '0000:3b:00.0' } });
    expect(checkAgainstHost(spec({ devices: { gpu: { kind: 'mediated', mdevType: 'nvidia-222' } } }), h).problems).toEqual([{ field: 'devices.gpu.mdevType', message: 'no free instance of nvidia-222 on 0000:3b:00.0' }]);
    expect(checkAgainstHost(spec({ devices: { hostdev: [{ pci: '0000:3b:00.0', mdevType: 'nvidia-999' }] } }), h).problems[0]!.message).toMatch(/^0000:3b:00.0 offers no mdev type nvidia-999; it offers nvidia-222, nvidia-223/);
    expect(checkAgainstHost(spec({ devices: { gpu: { kind: 'paravirtual', renderNode: '/dev/dri/renderD129' } } }), h).problems[0]!.message).toBe('this host has no /dev/dri/renderD129 (render nodes: /dev/dri/renderD128)');
    const numaHost = await readHostTopology(path.join(FIX, 'numa-2node'));
    expect(checkAgainstHost(spec({ devices: { hostdev: [{ pci: '0000:01:00.0' }] } }), numaHost).problems[0]!.message).toBe('this host has no PCI device 0000:01:00.0');
  });
});
