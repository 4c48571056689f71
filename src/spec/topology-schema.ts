/**
 * Spec v2 fields for CPU and memory topology and host devices (docs/topology.md):
 * cpu.topology/model flags/pinning/max, memory.numa/hugepages/balloon/max,
 * devices.hostdev and devices.gpu. Pure; the checks across fields are in
 * topology-check.ts, the checks against a host in topology-host-check.ts.
 */
import { z } from 'zod';
import { CPU_LIST_PATTERN, CPU_LIST_RULE, parseCpuList } from './cpu-list.js';
import { memorySize } from './size-text.js';

/** The x86 CPU models QEMU 7.2 knows (`qemu-system-x86_64 -cpu help`), without the -vN aliases. */
export const CPU_MODELS = [
  'host', 'max', 'base', 'qemu64', 'qemu32', 'kvm64', 'kvm32',
  '486', 'pentium', 'pentium2', 'pentium3', 'athlon', 'coreduo', 'core2duo', 'n270', 'phenom',
  'Conroe', 'Penryn', 'Nehalem', 'Nehalem-IBRS', 'Westmere', 'Westmere-IBRS', 'SandyBridge', 'SandyBridge-IBRS',
  'IvyBridge', 'IvyBridge-IBRS', 'Haswell', 'Haswell-IBRS', 'Haswell-noTSX', 'Haswell-noTSX-IBRS',
  'Broadwell', 'Broadwell-IBRS', 'Broadwell-noTSX', 'Broadwell-noTSX-IBRS',
  'Skylake-Client', 'Skylake-Client-IBRS', 'Skylake-Client-noTSX-IBRS', 'Skylake-Server', 'Skylake-Server-IBRS', 'Skylake-Server-noTSX-IBRS',
  'Cascadelake-Server', 'Cascadelake-Server-noTSX', 'Cooperlake', 'Icelake-Server', 'Icelake-Server-noTSX', 'Snowridge', 'Denverton', 'KnightsMill',
  'Opteron_G1', 'Opteron_G2', 'Opteron_G3', 'Opteron_G4', 'Opteron_G5', 'EPYC', 'EPYC-IBPB', 'EPYC-Rome', 'EPYC-Milan', 'Dhyana',
] as const;
export type CpuModelName = (typeof CPU_MODELS)[number];

export const cpuList = z.string().max(512)
  .regex(CPU_LIST_PATTERN, CPU_LIST_RULE)
  .refine((t) => parseCpuList(t) !== undefined, 'a range in the list runs backwards');

const cpuFlag = z.string().regex(/^[+-][a-z0-9][a-z0-9_.-]{0,47}$/, 'a CPU feature flag: +name to add it, -name to remove it (e.g. +avx2, -hle)');

/** `model: EPYC` or `model: {name: EPYC, flags: [+avx2, -hle]}` (v2). */
export const cpuModelInput = z.union([
  z.enum(CPU_MODELS),
  z.object({ name: z.enum(CPU_MODELS), flags: z.array(cpuFlag).max(64).default([]) }).strict(),
], { error: `must be one of ${CPU_MODELS.map((m) => JSON.stringify(m)).join(', ')}, or {name, flags: [+feature, -feature]}` });

export const cpuTopologySchema = z.object({
  sockets: z.number().int().min(1).max(16).default(1),
  dies: z.number().int().min(1).max(16).default(1),
  cores: z.number().int().min(1).max(256).optional().describe('default: what is left of the vCPUs (or cpu.max) after sockets, dies and threads'),
  threads: z.number().int().min(1).max(8).default(1),
}).strict().describe('sockets × dies × cores × threads = cpu.count, or cpu.max when set (vCPU hotplug)');

export const cpuPinningSchema = z.object({
  vcpus: z.record(z.string().regex(/^\d{1,3}$/, 'a vCPU index (0, 1, …)'), cpuList).optional()
    .describe('vCPU index → host CPU list, e.g. {"0": "2", "1": "3"}'),
  emulator: cpuList.optional().describe('host CPUs of QEMU\'s other threads (main loop, I/O, RCU)'),
  iothreads: cpuList.optional().describe('host CPUs of the VM\'s I/O threads (query-iothreads)'),
}).strict();

export const NUMA_POLICIES = ['bind', 'preferred', 'interleave'] as const;

export const numaNodeSchema = z.object({
  cpus: cpuList.describe('the guest vCPUs of this node'),
  memory: memorySize('numa node memory'),
  hostNodes: cpuList.optional().describe('host NUMA nodes backing this node\'s memory, e.g. "0" or "0-1"'),
  policy: z.enum(NUMA_POLICIES).optional().describe('with hostNodes: bind (default), preferred, interleave'),
  distances: z.array(z.number().int().min(10).max(255)).max(8).optional()
    .describe('this node\'s row of the distance table: one value per node, 10 for itself'),
}).strict();

export const HUGEPAGE_SIZES = ['2M', '1G'] as const;
export const HUGEPAGE_BYTES: Record<(typeof HUGEPAGE_SIZES)[number], number> = { '2M': 2 * 1024 ** 2, '1G': 1024 ** 3 };

export const hugepagesSchema = z.object({
  size: z.enum(HUGEPAGE_SIZES).default('2M'),
  hostNode: z.number().int().min(0).max(63).optional().describe('take the pages from this host node (without memory.numa)'),
}).strict();

export const balloonSchema = z.object({
  enabled: z.boolean().default(true),
  freePageReporting: z.boolean().default(false).describe('the guest hands pages it frees back to the host'),
}).strict();

export const memoryMaxSchema = z.object({
  size: memorySize('memory.max.size'),
  slots: z.number().int().min(1).max(255).default(16).describe('DIMM slots for hotplugged memory'),
}).strict();

/** What `memory: {…}` holds besides its size; normalized into the spec's `memoryLayout`. */
export const memoryLayoutSchema = z.object({
  numa: z.array(numaNodeSchema).min(1).max(8).optional(),
  hugepages: hugepagesSchema.optional(),
  balloon: balloonSchema.optional(),
  max: memoryMaxSchema.optional(),
  singleHostNode: z.boolean().optional()
    .describe('place the VM only where one host NUMA node holds all its vCPUs and memory (the cluster scheduler\'s numa filter); binds nothing at start: add memory.numa hostNodes or cpu.pinning for that'),
}).strict();

export const MEMORY_LAYOUT_KEYS = ['numa', 'hugepages', 'balloon', 'max', 'singleHostNode'] as const;

const BDF = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/;
const VENDOR_DEVICE = /^[0-9a-f]{4}:[0-9a-f]{4}$/;
export const pciSelector = z.string().refine((s) => BDF.test(s) || VENDOR_DEVICE.test(s),
  'a PCI address like 0000:01:00.0, or a vendor:device selector like 10de:1eb8 (lowercase hex)');
export const isPciAddress = (s: string): boolean => BDF.test(s);
const mdevType = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'an mdev type as sysfs names it, e.g. nvidia-222 or i915-GVTg_V5_4');

export const hostdevSchema = z.object({
  pci: pciSelector.describe('PCI address, or vendor:device (the first free matching device)'),
  mdevType: mdevType.optional().describe('create a mediated device of this type on it instead of passing the whole device'),
}).strict();

export const GPU_KINDS = ['none', 'emulated', 'paravirtual', 'passthrough', 'mediated'] as const;
export const EMULATED_GPUS = ['virtio-gpu', 'bochs', 'qxl'] as const;

export const gpuSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }).strict(),
  z.object({ kind: z.literal('emulated'), model: z.enum(EMULATED_GPUS).default('virtio-gpu') }).strict(),
  z.object({
    kind: z.literal('paravirtual'),
    renderNode: z.string().regex(/^\/dev\/dri\/renderD\d{3}$/, 'a DRM render node like /dev/dri/renderD128').default('/dev/dri/renderD128'),
  }).strict(),
  z.object({ kind: z.literal('passthrough'), pci: pciSelector }).strict(),
  z.object({ kind: z.literal('mediated'), mdevType, parent: pciSelector.optional().describe('the physical GPU (default: the first with a free instance of the type)') }).strict(),
]);

export const devicesSchema = z.object({
  hostdev: z.array(hostdevSchema).max(16).optional(),
  gpu: gpuSchema.optional(),
}).strict();

export type CpuPinning = z.output<typeof cpuPinningSchema>;
export type NumaNode = z.output<typeof numaNodeSchema>;
export type MemoryLayout = z.output<typeof memoryLayoutSchema>;
export type HostdevSpec = z.output<typeof hostdevSchema>;
export type GpuSpec = z.output<typeof gpuSchema>;
export type DevicesSpec = z.output<typeof devicesSchema>;
/** `memory` as users may write it in v2: `{size, numa, hugepages, balloon, max}`. */
export type MemoryObjectInput = { size?: string | number } & z.input<typeof memoryLayoutSchema>;
