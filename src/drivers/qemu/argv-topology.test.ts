/**
 * Golden argv for spec v2 topology and device cases (test/golden/qemu/topology-*.argv;
 * `UPDATE_GOLDEN=1` rewrites them, as in argv.test.ts). Passthrough and mdev cases are
 * argv only: no test machine has a GPU or IOMMU (host checks run on sysfs fixtures in
 * host-topology-read.test.ts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../../shared/index.js';
import { validateSpec, type ResolvedDevices, type VmSpecInput } from '../../spec/index.js';
import type { LaunchPlan } from '../driver.js';
import { buildQemuArgv, type ArgvEnv } from './argv.js';
import { mdevUuid } from './argv-topology-devices.js';
import { runtimeFiles } from './files.js';

const GOLDEN = path.resolve(import.meta.dirname, '..', '..', '..', 'test', 'golden', 'qemu');
const ID = '0b6f7c1e-5d2a-4c8e-9f3b-7a1d2e3f4a5b';
const DIR = '/var/lib/polyvisor/vms/' + ID;
const KERNEL = { kernel: '/srv/guest/vmlinuz', initrd: '/srv/guest/initrd.img', cmdline: 'console=ttyS0,115200 panic=-1 quiet' };

const plan = (input: Omit<VmSpecInput, 'boot'> & { boot?: VmSpecInput['boot'] }): LaunchPlan => ({ id: ID, spec: validateSpec({ boot: KERNEL, ...input }), dir: DIR, diskPaths: {} });
const env = (over: Partial<ArgvEnv> = {}): ArgvEnv => ({ accel: 'tcg', files: runtimeFiles(DIR), ...over });
const dev = (devices: ResolvedDevices): Partial<ArgvEnv> => ({ devices });

const MIB = 1024 ** 2;
const twoNodes = [{ cpus: '0-1', memory: '1Gi' }, { cpus: '2-3', memory: '1Gi' }];

const cases: Array<[string, LaunchPlan, ArgvEnv]> = [
  ['topology-sockets-dies-cores-threads', plan({ name: 'smp', cpu: { count: 16, topology: { sockets: 2, dies: 2, cores: 2, threads: 2 } }, memory: '1Gi' }), env()],
  ['topology-cpu-hotplug-max', plan({ name: 'grow', cpu: { count: 2, max: 8, topology: { sockets: 2, threads: 2 } }, memory: '512Mi' }), env()],
  ['topology-cpu-model-flags', plan({ name: 'flags', machine: { accel: 'kvm' }, cpu: { count: 4, model: { name: 'Skylake-Server', flags: ['+avx512f', '-hle', '-rtm'] } }, memory: '2Gi' }), env({ accel: 'kvm' })],
  ['topology-numa-two-nodes', plan({ name: 'numa', cpu: { count: 4, topology: { sockets: 2 } }, memory: { size: '2Gi', numa: twoNodes } }), env()],
  ['topology-numa-bound-policies', plan({
    name: 'bound', cpu: { count: 6 },
    memory: { size: '3Gi', numa: [{ cpus: '0-1', memory: '1Gi', hostNodes: '0' }, { cpus: '2-3', memory: '1Gi', hostNodes: '0-1', policy: 'interleave' }, { cpus: '4,5', memory: '1Gi', hostNodes: '1,3', policy: 'preferred' }] },
  }), env()],
  ['topology-numa-distances', plan({
    name: 'dist', cpu: { count: 4 },
    memory: { size: '2Gi', numa: [{ cpus: '0-1', memory: '1Gi', distances: [10, 21] }, { cpus: '2-3', memory: '1Gi', distances: [21, 10] }] },
  }), env()],
  ['topology-hugepages-2m', plan({ name: 'huge', memory: { size: '1Gi', hugepages: { size: '2M' } } }), env()],
  ['topology-hugepages-1g-host-node', plan({ name: 'huge1g', cpu: { count: 2 }, memory: { size: '4Gi', hugepages: { size: '1G', hostNode: 1 } } }), env()],
  ['topology-numa-hugepages-bound', plan({
    name: 'db', cpu: { count: 4 },
    memory: { size: '4Gi', hugepages: { size: '2M' }, numa: [{ cpus: '0-1', memory: '2Gi', hostNodes: '0' }, { cpus: '2-3', memory: '2Gi', hostNodes: '1' }] },
  }), env()],
  ['topology-memory-hotplug-slots', plan({ name: 'memgrow', memory: { size: '1Gi', max: { size: '8Gi', slots: 8 } } }), env()],
  ['topology-balloon-free-page-reporting', plan({ name: 'fpr', memory: { size: '1Gi', balloon: { freePageReporting: true } } }), env()],
  ['topology-balloon-off', plan({ name: 'noballoon', memory: { size: '1Gi', balloon: { enabled: false } } }), env()],
  ['topology-hostdev-vfio', plan({ name: 'nic', memory: '1Gi', devices: { hostdev: [{ pci: '0000:5e:00.1' }] } }), env()],
  ['topology-hostdev-selector-pc', plan({ name: 'nicpc', machine: { type: 'pc' }, memory: '1Gi', devices: { hostdev: [{ pci: '8086:1572' }] } }), env(dev({ hostdev: ['0000:5e:00.1'] }))],
  ['topology-hostdev-mdev', plan({ name: 'vgpu', memory: '2Gi', devices: { hostdev: [{ pci: '10de:1eb8', mdevType: 'nvidia-232' }] } }), env(dev({ hostdev: ['0000:3b:00.0'] }))],
  ['topology-gpu-virtio', plan({ name: 'gpuv', memory: '1Gi', display: { vnc: true }, devices: { gpu: { kind: 'emulated' } } }), env()],
  ['topology-gpu-bochs', plan({ name: 'gpub', memory: '1Gi', devices: { gpu: { kind: 'emulated', model: 'bochs' } } }), env()],
  ['topology-gpu-qxl-vga', plan({ name: 'gpuq', memory: '1Gi', devices: { gpu: { kind: 'emulated', model: 'qxl' } } }), env()],
  ['topology-gpu-qxl-secondary', plan({ name: 'gpuq2', memory: '1Gi', display: { vnc: true }, devices: { gpu: { kind: 'emulated', model: 'qxl' } } }), env()],
  ['topology-gpu-virgl', plan({ name: 'virgl', memory: '2Gi', devices: { gpu: { kind: 'paravirtual' } } }), env()],
  ['topology-gpu-passthrough-group', plan({
    name: 'gamer', machine: { accel: 'kvm' }, cpu: { count: 4, model: 'host' }, memory: '8Gi',
    devices: { gpu: { kind: 'passthrough', pci: '10de:1b80' }, hostdev: [{ pci: '0000:01:00.1' }] },
  }), env({ accel: 'kvm', devices: { hostdev: ['0000:01:00.1'], gpu: '0000:01:00.0' } })],
  ['topology-gpu-mediated', plan({ name: 'vdi', memory: '4Gi', devices: { gpu: { kind: 'mediated', mdevType: 'nvidia-232' } } }), env(dev({ hostdev: [], gpu: '0000:3b:00.0' }))],
  ['topology-database-everything', plan({
    name: 'pg', machine: { accel: 'kvm' },
    cpu: { count: 4, max: 8, topology: { sockets: 2, cores: 4 }, model: { name: 'EPYC-Rome', flags: ['+x2apic'] }, pinning: { vcpus: { 0: '2', 1: '3' }, emulator: '0-1' } },
    memory: {
      size: '16Gi', hugepages: { size: '1G' }, balloon: { freePageReporting: false }, max: { size: '64Gi', slots: 4 },
      numa: [{ cpus: '0-3', memory: '8Gi', hostNodes: '0', distances: [10, 32] }, { cpus: '4-7', memory: '8Gi', hostNodes: '1', distances: [32, 10] }],
    },
  }), env({ accel: 'kvm' })],
  // A live migration's target after `vm resize` on the source (+1 vCPU, +128 MiB): the spec says the totals, the
  // plan's hotplugged layout the boot-time ones and the hot-added devices with the source's ids, address and slot.
  ['topology-hotplugged-migration-target', {
    ...plan({ name: 'grown', cpu: { count: 2, max: 3 }, memory: { size: '384Mi', max: { size: '512Mi', slots: 4 } } }),
    hotplugged: {
      bootCpus: 1, bootMemoryBytes: 256 * MIB,
      cpus: [{ id: 'pv-cpu-0-0-1-0', type: 'max-x86_64-cpu', props: { 'socket-id': 0, 'die-id': 0, 'core-id': 1, 'thread-id': 0 } }],
      dimms: [{ id: 'pv-dimm0', memdev: 'pv-mem0', bytes: 128 * MIB, addr: 4294967296, slot: 0, node: 0 }],
    },
  }, env()],
  ['topology-hotplugged-numa-hugepages-target', {
    ...plan({ name: 'grownnuma', cpu: { count: 3, max: 4 }, memory: { size: '1280Mi', hugepages: { size: '2M' }, max: { size: '2Gi', slots: 2 }, numa: [{ cpus: '0-1', memory: '768Mi' }, { cpus: '2-3', memory: '512Mi' }] } }),
    hotplugged: {
      bootCpus: 2, bootMemoryBytes: 1024 * MIB,
      cpus: [{ id: 'pv-cpu-0-0-2-0', type: 'max-x86_64-cpu', props: { 'node-id': 1, 'socket-id': 0, 'die-id': 0, 'core-id': 2, 'thread-id': 0 } }],
      dimms: [{ id: 'pv-dimm0', memdev: 'pv-mem0', bytes: 256 * MIB, addr: 4294967296, slot: 0, node: 0 }],
    },
  }, env()],
];

describe('buildQemuArgv golden files: topology and devices', () => {
  it('has at least 15 cases', () => expect(cases.length).toBeGreaterThanOrEqual(15));
  for (const [name, p, e] of cases) {
    it(name, () => {
      const text = `${buildQemuArgv(p, e).join('\n')}\n`;
      const file = path.join(GOLDEN, `${name}.argv`);
      if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, text);
      }
      expect(text).toBe(readFileSync(file, 'utf8'));
    });
  }
});

describe('topology argv pieces', () => {
  it('a vendor:device selector nobody resolved is a HOST_TOPOLOGY_UNFIT error, never a guess', () => {
    const p = plan({ name: 'x', memory: '1Gi', devices: { hostdev: [{ pci: '8086:1572' }] } });
    expect(() => buildQemuArgv(p, env())).toThrow(expect.objectContaining({ code: 'HOST_TOPOLOGY_UNFIT' }));
    try {
      buildQemuArgv(p, env());
    } catch (err) {
      expect(isPolyvisorError(err) && err.message).toBe('VM x: devices.hostdev.0.pci 8086:1572 was not matched to a PCI device of this host');
    }
  });

  it('a migration target with hot-added devices boots with the source\'s boot-time -smp and -m; without any, the spec\'s totals', () => {
    const [, p] = cases.find(([n]) => n === 'topology-hotplugged-migration-target')!;
    const argv = buildQemuArgv(p, env());
    expect(argv[argv.indexOf('-smp') + 1]).toBe('cpus=1,maxcpus=3,sockets=1,dies=1,cores=3,threads=1');
    expect(argv[argv.indexOf('-m') + 1]).toBe('262144K,slots=4,maxmem=524288K');
    expect(argv).toContain('max-x86_64-cpu,id=pv-cpu-0-0-1-0,socket-id=0,die-id=0,core-id=1,thread-id=0');
    expect(argv).toContain('pc-dimm,id=pv-dimm0,memdev=pv-mem0,addr=4294967296,slot=0');
    const cold = buildQemuArgv({ ...p, hotplugged: { bootCpus: 2, bootMemoryBytes: 384 * MIB, cpus: [], dimms: [] } }, env());
    expect(cold[cold.indexOf('-smp') + 1]).toMatch(/^cpus=2,maxcpus=3,/);
    expect(cold[cold.indexOf('-m') + 1]).toBe('393216K,slots=4,maxmem=524288K');
    expect(cold.filter((a) => a.startsWith('pc-dimm'))).toEqual([]);
  });

  it('memory.max equal to memory: accepted, and the VM starts without DIMM slots (no memory hotplug)', () => {
    const argv = buildQemuArgv(plan({ name: 'full', memory: { size: '512Mi', max: { size: '512Mi' } } }), env());
    expect(argv[argv.indexOf('-m') + 1]).toBe('524288K');
  });

  it('mdev UUIDs are fixed per VM and slot, and valid UUIDs', () => {
    expect(mdevUuid(ID, 0)).toBe('0b6f7c1e-5d2a-4c8e-9f3b-7a1d2e3f0000');
    expect(mdevUuid(ID, 'gpu')).toMatch(/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/);
  });

  it('NUMA node lists with commas become repeated keys (a comma would end the value)', () => {
    const argv = buildQemuArgv(cases.find(([n]) => n === 'topology-numa-bound-policies')![1], env());
    expect(argv).toContain('node,nodeid=2,cpus=4-5,memdev=pv-node2');
    expect(argv).toContain('memory-backend-ram,id=pv-node2,size=1073741824,host-nodes=1,host-nodes=3,policy=preferred');
  });
});
