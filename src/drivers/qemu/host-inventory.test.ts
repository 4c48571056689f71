/**
 * The host inventory (`polyvisor host show`) read from sysfs/procfs FIXTURE
 * trees of real host kinds (test/fixtures/host-sysfs/: a 2-node NUMA server
 * with IOMMU groups and V100s, a GPU host with an NVIDIA T4's mdev types and
 * an AMD card, this build machine's own tree) and from this machine's real
 * /sys and /proc, read only. No test machine here has passthrough-capable
 * hardware (no IOMMU, no GPU): GPUs and groups are shown on the fixtures.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkAgainstHost, hostInventory, validateSpec, type VmSpecInput } from '../../spec/index.js';
import { parseCpuInfo, parsePciIds } from './host-proc-parse.js';
import { readHostTopology } from './host-topology-read.js';
import { pciInUse, vfioHostsOf } from './pci-in-use.js';

const FIX = path.resolve(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'host-sysfs');
const spec = (extra: Partial<VmSpecInput>) => validateSpec({ name: 'db', boot: { kernel: '/k' }, ...extra });
const MiB = 1024 ** 2;

describe('host inventory on fixture trees', () => {
  it('the 2-node server: CPU model and packages, nodes with free memory and distances, GPUs named without pci.ids', async () => {
    const inv = hostInventory('srv', await readHostTopology(path.join(FIX, 'numa-2node'), { names: true }));
    expect(inv.cpu).toMatchObject({ model: 'Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz', vendor: 'GenuineIntel', sockets: 2, cores: 16 });
    expect(inv.cpu!.flags).toEqual(expect.arrayContaining(['avx512f', 'vmx', 'pdpe1gb']));
    expect(inv.nodes.map((n) => [n.id, n.freeBytes, n.distances])).toEqual([[0, 60113548 * 1024, [10, 21]], [1, 63827100 * 1024, [21, 10]]]);
    expect(inv.iommu).toBe(true);
    expect(inv.gpus.map((g) => [g.address, g.kind, g.vendorName, g.model, g.driver, g.iommuGroup, g.numaNode])).toEqual([
      ['0000:03:00.0', 'vga', 'ASPEED Technology, Inc.', '1a03:2000', 'ast', 12, 0],
      ['0000:87:00.0', '3d', 'NVIDIA Corporation', '10de:1db6', 'vfio-pci', 81, 1],
      ['0000:af:00.0', '3d', 'NVIDIA Corporation', '10de:1db6', 'nvidia', 90, 1],
    ]);
    expect(inv.pci.find((p) => p.address === '0000:3d:00.1')).toEqual({ address: '0000:3d:00.1', vendor: '8086', device: '1521', class: '0x020000', driver: 'igb', iommuGroup: 40, numaNode: 0, mdevTypes: [] });
  });

  it('the GPU host: names from its pci.ids, the T4 mdev types with free instances and frame buffer, AMD VRAM from amdgpu', async () => {
    const inv = hostInventory('gpu', await readHostTopology(path.join(FIX, 'gpu-iommu'), { names: true }));
    const byAddr = new Map(inv.gpus.map((g) => [g.address, g]));
    expect(byAddr.get('0000:01:00.0')).toMatchObject({ vendorName: 'NVIDIA Corporation', model: 'GP104 [GeForce GTX 1080]', kind: 'vga', driver: 'vfio-pci', iommuGroup: 1 });
    const t4 = byAddr.get('0000:3b:00.0')!;
    expect(t4).toMatchObject({ model: 'TU104GL [Tesla T4]', kind: '3d', driver: 'nvidia', iommuGroup: 40 });
    expect(t4.memoryBytes).toBeUndefined(); // the nvidia driver does not say in sysfs
    expect(t4.mdevTypes.filter((t) => t.available > 0).map((t) => [t.type, t.name, t.available, t.framebufferBytes! / MiB])).toEqual([
      ['nvidia-232', 'GRID T4-4Q', 3, 4096], ['nvidia-233', 'GRID T4-8Q', 1, 8192],
    ]);
    expect(byAddr.get('0000:c1:00.0')).toMatchObject({ vendorName: 'Advanced Micro Devices, Inc. [AMD/ATI]', model: 'Navi 10 [Radeon Pro W5700]', driver: 'amdgpu', memoryBytes: 8573157376 });
    expect(inv.pci.find((p) => p.address === '0000:5e:00.0')!.deviceName).toBe('Ethernet Controller X710 for 10GbE SFP+');
    expect(inv.renderNodes).toEqual(['/dev/dri/renderD128']);
  });

  it('this build machine\'s own tree: 2 vCPUs, one node, virtio devices, no IOMMU and no GPU', async () => {
    const inv = hostInventory('ci', await readHostTopology(path.join(FIX, 'this-machine'), { names: true }));
    expect(inv.cpus).toEqual([0, 1]);
    expect(inv.nodes.map((n) => n.id)).toEqual([0]);
    expect(inv.cpu!.model).toBe('Intel(R) Xeon(R) Processor');
    expect(inv.iommu).toBe(false);
    expect(inv.gpus).toEqual([]);
    expect(inv.pci.filter((p) => p.driver === 'virtio-pci').length).toBeGreaterThan(0);
    expect(inv.pci.every((p) => p.numaNode === undefined)).toBe(true); // numa_node -1: not known
  });

  it('this host, read and never changed: CPUs, nodes, CPU model; every GPU is one of its PCI devices', async () => {
    const inv = hostInventory('self', await readHostTopology('/', { names: true }));
    expect(inv.cpus.length).toBeGreaterThan(0);
    expect(inv.nodes.flatMap((n) => n.cpus).sort((a, b) => a - b)).toEqual(inv.cpus);
    expect(inv.cpu?.flags.length ?? 0).toBeGreaterThan(0);
    for (const g of inv.gpus) expect(inv.pci.map((p) => p.address)).toContain(g.address);
  });
});

describe('cpuinfo and pci.ids parsers', () => {
  it('counts packages and cores; a cpuinfo without physical ids is one package', () => {
    expect(parseCpuInfo('processor\t: 0\nmodel name\t: X\nflags\t\t: a b\n\nprocessor\t: 1\nmodel name\t: X\nflags\t\t: a b\n')).toEqual({ model: 'X', vendor: '', flags: ['a', 'b'], sockets: 1, cores: 2 });
    expect(parseCpuInfo('')).toBeUndefined();
  });
  it('pci.ids: only the vendors asked, subsystem lines skipped, the class list not read as vendors', () => {
    const db = '# c\n10de  NVIDIA Corporation\n\t1eb8  TU104GL [Tesla T4]\n\t\t10de 12a2  T4 32GB\n8086  Intel Corporation\n\t1572  X710\nC 00  Unclassified device\n';
    const m = parsePciIds(db, new Set(['10de']));
    expect([...m.keys()]).toEqual(['10de']);
    expect([...m.get('10de')!.devices]).toEqual([['1eb8', 'TU104GL [Tesla T4]']]);
  });
});

describe('host checks against the 2-node server (fixture): IOMMU groups whole, devices other VMs hold', () => {
  it('a hostdev whose group holds a port still on igb is refused naming that port and driver; a V100 alone in its group passes', async () => {
    const h = await readHostTopology(path.join(FIX, 'numa-2node'));
    expect(checkAgainstHost(spec({ devices: { hostdev: [{ pci: '0000:3d:00.0' }] } }), h).problems).toEqual([{
      field: 'devices.hostdev.0.pci',
      message: 'IOMMU group 40 of 0000:3d:00.0 also holds 0000:3d:00.1 (driver igb), which the host uses: give it to the VM too, or bind it to vfio-pci',
    }]);
    expect(checkAgainstHost(spec({ devices: { gpu: { kind: 'passthrough', pci: '10de:1db6' } } }), h)).toEqual({ problems: [], devices: { hostdev: [], gpu: '0000:87:00.0' } });
    expect(checkAgainstHost(spec({ devices: { gpu: { kind: 'passthrough', pci: '0000:af:00.0' } } }), h).problems[0]!.message)
      .toBe('0000:af:00.0 is bound to the host driver nvidia, not vfio-pci: bind it to vfio-pci first (driverctl set-override 0000:af:00.0 vfio-pci)');
    // the free V100 given to another VM: the selector finds none left
    expect(checkAgainstHost(spec({ devices: { gpu: { kind: 'passthrough', pci: '10de:1db6' } } }), h, new Set(['0000:87:00.0'])).problems[0]!.message)
      .toBe('0000:af:00.0 is bound to the host driver nvidia, not vfio-pci: bind it to vfio-pci first (driverctl set-override 0000:af:00.0 vfio-pci)');
  });

  it('a group whose other device another VM has is refused, even when every device is on vfio-pci', async () => {
    const h = await readHostTopology(path.join(FIX, 'numa-2node'));
    const bound = { ...h, pci: h.pci.map((p) => (p.address === '0000:3d:00.1' ? { ...p, driver: 'vfio-pci' } : p)) };
    expect(checkAgainstHost(spec({ devices: { hostdev: [{ pci: '0000:3d:00.0' }] } }), bound).problems).toEqual([]);
    expect(checkAgainstHost(spec({ devices: { hostdev: [{ pci: '0000:3d:00.0' }] } }), bound, new Set(['0000:3d:00.1'])).problems).toEqual([{
      field: 'devices.hostdev.0.pci',
      message: 'IOMMU group 40 of 0000:3d:00.0 also holds 0000:3d:00.1, which another VM of this host has: a group goes to one VM whole',
    }]);
  });

  it('pinning beyond the host\'s CPUs and a guest node larger than its host node name the host\'s values', async () => {
    const h = await readHostTopology(path.join(FIX, 'numa-2node'));
    const bad = spec({ cpu: { count: 2, pinning: { vcpus: { 0: '31', 1: '32' } } }, memory: { size: '65Gi', numa: [{ cpus: '0-1', memory: '65Gi', hostNodes: '0' }] } });
    expect(checkAgainstHost(bad, h).problems).toEqual([
      { field: 'cpu.pinning.vcpus.1', message: 'host CPU 32 does not exist: this host has CPUs 0-31 (32 online)' },
      { field: 'memory.numa.0.memory', message: '65Gi is more than host node 0 has (65842292Ki)' },
    ]);
  });
});

describe('devices other QEMUs hold (/proc/PID/cmdline)', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('vfio-pci host= addresses, with the domain added when missing', () => {
    expect(vfioHostsOf(['-device', 'vfio-pci,host=0000:01:00.0,id=a', '-device', 'vfio-pci,host=3b:00.0', '-device', 'virtio-net-pci,host=1', '-device', 'vfio-pci,sysfsdev=/sys/bus/mdev/devices/x'])).toEqual(['0000:01:00.0', '0000:3b:00.0']);
  });

  it('reads a proc tree: only processes with vfio-pci devices count', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'pv-proc-'));
    dirs.push(root);
    const cmd = async (pid: number, argv: string[]) => {
      await mkdir(path.join(root, 'proc', String(pid)), { recursive: true });
      await writeFile(path.join(root, 'proc', String(pid), 'cmdline'), argv.join('\0') + '\0');
    };
    await cmd(100, ['qemu-system-x86_64', '-device', 'vfio-pci,host=0000:87:00.0,id=pv-gpu']);
    await cmd(101, ['qemu-system-x86_64', '-device', 'virtio-blk-pci']);
    await cmd(102, ['bash']);
    expect([...(await pciInUse(root))]).toEqual(['0000:87:00.0']);
  });
});
