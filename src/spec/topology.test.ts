/** Spec v2 topology and device fields: parsing, normalization, the rules across fields, and v1 specs unchanged. */
import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { formatCpuList, parseCpuList } from './cpu-list.js';
import { specJsonSchema } from './json-schema.js';
import { validateSpec } from './parse.js';
import { specAsInput } from './spec-input.js';
import type { VmSpecInput } from './schema.js';

const K = { kernel: '/k' };
const problems = (input: unknown): Array<{ field: string; message: string }> => {
  try {
    validateSpec(input);
  } catch (err) {
    if (isPolyvisorError(err, 'SPEC_INVALID')) return err.details as Array<{ field: string; message: string }>;
    throw err;
  }
  throw new Error('expected SPEC_INVALID');
};
const v2 = (extra: Partial<VmSpecInput>): VmSpecInput => ({ name: 'db', boot: K, ...extra });

describe('cpu lists', () => {
  it('parse and format like sysfs', () => {
    expect(parseCpuList('0-3,8,10-11')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList('3-1')).toBeUndefined();
    expect(parseCpuList('a')).toBeUndefined();
    expect(formatCpuList([8, 0, 1, 2, 3, 11, 10])).toBe('0-3,8,10-11');
  });
});

describe('spec v2: CPU topology, model, pinning, hotplug ceiling', () => {
  it('a v1 spec normalizes exactly as before and stays version 1', () => {
    const s = validateSpec({ name: 'a', cpu: { count: 4, sockets: 2 }, memory: '1Gi', boot: K });
    expect(s.version).toBe(1);
    expect(s.cpu).toStrictEqual({ count: 4, sockets: 2, cores: 2, threads: 1, model: 'max' });
    expect('memoryLayout' in s || 'devices' in s).toBe(false);
  });

  it('cpu.topology with dies, cpu.max, a model with flags and pinning: version 2', () => {
    const s = validateSpec(v2({ cpu: { count: 4, max: 8, topology: { sockets: 2, dies: 2, threads: 2 }, model: { name: 'EPYC-Rome', flags: ['+avx2', '-hle'] }, pinning: { vcpus: { 0: '2', 7: '3-4' }, emulator: '0-1' } } }));
    expect(s.version).toBe(2);
    expect(s.cpu).toStrictEqual({ count: 4, sockets: 2, dies: 2, cores: 1, threads: 2, model: 'EPYC-Rome', max: 8, flags: ['+avx2', '-hle'], pinning: { vcpus: { 0: '2', 7: '3-4' }, emulator: '0-1' } });
  });

  it('refuses impossible CPU requests, naming the field', () => {
    expect(problems(v2({ cpu: { count: 4, topology: { sockets: 3, cores: 1 } } }))).toEqual([{ field: 'cpu.topology', message: 'sockets × dies × cores × threads (3×1×1×1) must equal count (4)' }]);
    expect(problems(v2({ cpu: { count: 4, max: 2 } }))[0]).toMatchObject({ field: 'cpu.max', message: 'cpu.max (2) must be at least cpu.count (4)' });
    expect(problems(v2({ cpu: { count: 2, topology: { sockets: 2 }, sockets: 2 } }))[0]!.message).toMatch(/either cpu.topology or cpu.sockets/);
    expect(problems(v2({ cpu: { count: 2, pinning: { vcpus: { 2: '0' } } } }))[0]).toEqual({ field: 'cpu.pinning.vcpus.2', message: 'vCPU 2 does not exist: the VM has vCPUs 0-1' });
    expect(problems(v2({ cpu: { count: 2, pinning: { emulator: '1-0' } } }))[0]!.field).toBe('cpu.pinning.emulator');
    expect(problems(v2({ cpu: { model: 'z80' as never } }))[0]!.message).toMatch(/^must be one of "host", "max"/);
    expect(problems(v2({ cpu: { model: { name: 'EPYC', flags: ['avx2'] } } }))[0]).toEqual({ field: 'cpu.model.flags.0', message: 'a CPU feature flag: +name to add it, -name to remove it (e.g. +avx2, -hle)' });
  });

  it('a version 1 spec naming v2 fields is told to say version 2', () => {
    expect(problems({ version: 1, name: 'a', boot: K, cpu: { max: 4 }, devices: {} })).toEqual([
      { field: 'cpu.max', message: 'is a spec version 2 field: set version: 2' },
      { field: 'devices', message: 'is a spec version 2 field: set version: 2' },
    ]);
  });
});

describe('spec v2: memory {size, numa, hugepages, balloon, max}', () => {
  const numa = (over: object = {}) => v2({
    cpu: { count: 4 },
    memory: { size: '2Gi', numa: [{ cpus: '0-1', memory: '1Gi', hostNodes: '0' }, { cpus: '2-3', memory: '1Gi', hostNodes: '1', policy: 'preferred' }], ...over },
  });

  it('a normalized spec with NUMA nodes and memory.max reads back as itself through specAsInput (bytes as size text, not MiB)', () => {
    const s = validateSpec(numa({ hugepages: { size: '2M' }, max: { size: '4Gi', slots: 4 } }));
    expect(validateSpec(specAsInput(s))).toEqual(s);
    expect(() => validateSpec({ ...s, memory: `${s.memory / 1024}Ki` })).toThrow(/memory.max.size|numa node memory/);
  });

  it('lifts the object form into memory (bytes) + memoryLayout', () => {
    const s = validateSpec(numa({ hugepages: { size: '2M' }, balloon: { freePageReporting: true }, max: { size: '4Gi', slots: 4 } }));
    expect(s.memory).toBe(2 * 1024 ** 3);
    expect(s.memoryLayout).toStrictEqual({
      numa: [{ cpus: '0-1', memory: 1024 ** 3, hostNodes: '0' }, { cpus: '2-3', memory: 1024 ** 3, hostNodes: '1', policy: 'preferred' }],
      hugepages: { size: '2M' }, balloon: { enabled: true, freePageReporting: true }, max: { size: 4 * 1024 ** 3, slots: 4 },
    });
    expect(s.version).toBe(2);
    expect(validateSpec(v2({ memory: { size: '512Mi' } })).memory).toBe(512 * 1024 ** 2);
  });

  it('numa cpus must cover the vCPUs exactly once, and node memory add up', () => {
    const p = problems(v2({ cpu: { count: 4 }, memory: { size: '2Gi', numa: [{ cpus: '0-2', memory: '1Gi' }, { cpus: '2', memory: '512Mi' }] } }));
    expect(p).toEqual(expect.arrayContaining([
      { field: 'memory.numa.1.cpus', message: 'vCPU 2 is already in node 0: each vCPU belongs to exactly one node' },
      { field: 'memory.numa', message: 'vCPU 3 is in no node: the nodes\' cpus must cover vCPUs 0-3 exactly once' },
      { field: 'memory.numa', message: 'the nodes\' memory adds up to 1536Mi, but the VM has 2Gi: they must be equal' },
    ]));
    expect(problems(v2({ cpu: { count: 2 }, memory: { size: '1Gi', numa: [{ cpus: '0-2', memory: '1Gi' }] } }))[0]!.message).toMatch(/vCPU 2 does not exist/);
    expect(problems(v2({ cpu: { count: 2, max: 4 }, memory: { size: '1Gi', numa: [{ cpus: '0-1', memory: '1Gi' }] } }))[0]!.message).toMatch(/vCPUs 2-3 are in no node/);
  });

  it('distances, policies, hugepage alignment, max and balloon rules', () => {
    expect(problems(numa({ numa: [{ cpus: '0-3', memory: '2Gi', policy: 'bind' }] }))[0]).toEqual({ field: 'memory.numa.0.policy', message: 'a policy needs hostNodes to apply to' });
    expect(problems(v2({ cpu: { count: 2 }, memory: { size: '2Gi', numa: [{ cpus: '0', memory: '1Gi', distances: [10, 21] }, { cpus: '1', memory: '1Gi', distances: [10, 10] }] } }))[0]).toEqual({ field: 'memory.numa.1.distances.0', message: 'the distance to another node is more than 10' });
    expect(problems(v2({ memory: { size: '1025Mi', hugepages: { size: '2M' } } }))[0]).toEqual({ field: 'memory', message: '1025Mi is not a whole number of 2M hugepages' });
    expect(problems(v2({ memory: { size: '1Gi', max: { size: '512Mi' } } }))[0]!.field).toBe('memory.max.size'); // equal is allowed: a VM grown to its ceiling (vm resize)
    // Equal is accepted and means no memory hotplug (no DIMM slots; docs/topology.md), as a VM grown to its ceiling by vm resize has.
    expect(validateSpec(v2({ memory: { size: '1Gi', max: { size: '1Gi' } } })).memoryLayout?.max).toEqual({ size: 1024 ** 3, slots: 16 });
    expect(problems(v2({ memory: { size: '1Gi', balloon: { enabled: false, freePageReporting: true } } }))[0]!.field).toBe('memory.balloon.freePageReporting');
    expect(problems(v2({ memory: { size: '1Gi', numa: [{ cpus: '0', memory: '1Gi' }], colour: 'x' } as never }))[0]).toEqual({ field: 'memory.colour', message: 'is not a known field' });
  });
});

describe('spec v2: devices', () => {
  it('hostdev by address or vendor:device, GPUs of every kind', () => {
    const s = validateSpec(v2({ devices: { hostdev: [{ pci: '0000:01:00.0' }, { pci: '10de:1eb8', mdevType: 'nvidia-232' }], gpu: { kind: 'emulated' } } }));
    expect(s.devices).toStrictEqual({ hostdev: [{ pci: '0000:01:00.0' }, { pci: '10de:1eb8', mdevType: 'nvidia-232' }], gpu: { kind: 'emulated', model: 'virtio-gpu' } });
    expect(validateSpec(v2({ devices: { gpu: { kind: 'paravirtual' } } })).devices?.gpu).toEqual({ kind: 'paravirtual', renderNode: '/dev/dri/renderD128' });
    expect(problems(v2({ devices: { hostdev: [{ pci: '01:00.0' }] } }))[0]!.field).toBe('devices.hostdev.0.pci');
    expect(problems(v2({ devices: { gpu: { kind: 'remote' } as never } }))[0]!.field).toBe('devices.gpu.kind');
    expect(problems(v2({ devices: { hostdev: [{ pci: '0000:01:00.0' }], gpu: { kind: 'passthrough', pci: '0000:01:00.0' } } }))[0]).toEqual({ field: 'devices.gpu.pci', message: 'PCI device 0000:01:00.0 is already given as devices.hostdev.0' });
  });

  it('the JSON Schema shows memory as a size or {size, numa, …}, and no memoryLayout', () => {
    const s = specJsonSchema() as { properties: Record<string, { anyOf?: Array<{ properties?: Record<string, unknown> }> }> };
    expect(Object.keys(s.properties['memory']!.anyOf![1]!.properties!)).toEqual(['size', 'numa', 'hugepages', 'balloon', 'max', 'singleHostNode']);
    expect(s.properties['memoryLayout']).toBeUndefined();
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['devices']));
  });
});
