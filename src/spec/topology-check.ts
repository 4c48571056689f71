/**
 * Rules across the v2 topology fields that need more than one field (vCPUs
 * covered by NUMA nodes, node memory adding up, hugepage alignment, devices
 * named twice). Pure; paths are the normalized ones (`memoryLayout.…`), which
 * validateSpec reports as `memory.…`, where the user wrote them.
 */
import type { z } from 'zod';
import { formatCpuList, parseCpuList } from './cpu-list.js';
import { HUGEPAGE_BYTES, isPciAddress, type DevicesSpec, type MemoryLayout } from './topology-schema.js';
import { formatSize } from './units.js';

interface Checked {
  cpu: { count: number; max?: number };
  memory: number;
  memoryLayout?: MemoryLayout;
  devices?: DevicesSpec;
}

type Ctx = z.core.$RefinementCtx;

export function topologyProblems(s: Checked, ctx: Ctx): void {
  const add = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const lay = s.memoryLayout;
  if (lay) memoryProblems(s, lay, add);
  if (s.devices) deviceProblems(s.devices, add);
}

type Add = (path: PropertyKey[], message: string) => void;

function memoryProblems(s: Checked, lay: MemoryLayout, add: Add): void {
  const total = s.cpu.max ?? s.cpu.count;
  const numa = lay.numa ?? [];
  if (numa.length) {
    const owner = new Map<number, number>();
    numa.forEach((n, i) => {
      for (const c of parseCpuList(n.cpus) ?? []) {
        if (c >= total) add(['memoryLayout', 'numa', i, 'cpus'], `vCPU ${c} does not exist: the VM has vCPUs 0-${total - 1}${s.cpu.max === undefined ? '' : ' (cpu.max)'}`);
        else if (owner.has(c)) add(['memoryLayout', 'numa', i, 'cpus'], `vCPU ${c} is already in node ${owner.get(c)}: each vCPU belongs to exactly one node`);
        else owner.set(c, i);
      }
      if (n.policy !== undefined && n.hostNodes === undefined) add(['memoryLayout', 'numa', i, 'policy'], 'a policy needs hostNodes to apply to');
      if (n.distances !== undefined) {
        if (n.distances.length !== numa.length) add(['memoryLayout', 'numa', i, 'distances'], `needs one distance per node (${numa.length}), 10 for node ${i} itself`);
        else n.distances.forEach((d, j) => {
          if ((j === i) !== (d === 10)) add(['memoryLayout', 'numa', i, 'distances', j], j === i ? 'a node\'s distance to itself is 10' : 'the distance to another node is more than 10');
        });
      }
    });
    const missing = Array.from({ length: total }, (_, c) => c).filter((c) => !owner.has(c));
    if (missing.length) add(['memoryLayout', 'numa'], `vCPU${missing.length > 1 ? 's' : ''} ${formatCpuList(missing)} ${missing.length > 1 ? 'are' : 'is'} in no node: the nodes' cpus must cover vCPUs 0-${total - 1} exactly once`);
    const sum = numa.reduce((a, n) => a + n.memory, 0);
    if (sum !== s.memory) add(['memoryLayout', 'numa'], `the nodes' memory adds up to ${formatSize(sum)}, but the VM has ${formatSize(s.memory)}: they must be equal`);
  }
  if (lay.hugepages) {
    const page = HUGEPAGE_BYTES[lay.hugepages.size];
    const sizes: Array<[PropertyKey[], number]> = numa.length ? numa.map((n, i) => [['memoryLayout', 'numa', i, 'memory'], n.memory]) : [[['memory'], s.memory]];
    for (const [path, bytes] of sizes) {
      if (bytes % page !== 0) add(path, `${formatSize(bytes)} is not a whole number of ${lay.hugepages.size} hugepages`);
    }
    if (lay.hugepages.hostNode !== undefined && numa.some((n) => n.hostNodes !== undefined)) {
      add(['memoryLayout', 'hugepages', 'hostNode'], 'with memory.numa[].hostNodes, the pages come from each node\'s host nodes; drop hostNode');
    }
  }
  // Equal is allowed: a VM grown to its ceiling by `vm resize` keeps it after a restart (the argv then has no DIMM slots left to give).
  if (lay.max && lay.max.size < s.memory) add(['memoryLayout', 'max', 'size'], `memory.max.size (${formatSize(lay.max.size)}) must be at least memory (${formatSize(s.memory)})`);
  if (lay.balloon && !lay.balloon.enabled && lay.balloon.freePageReporting) add(['memoryLayout', 'balloon', 'freePageReporting'], 'free page reporting needs the balloon (enabled: true)');
}

function deviceProblems(d: DevicesSpec, add: Add): void {
  const seen = new Map<string, string>();
  const claim = (pci: string, where: string, path: PropertyKey[]) => {
    if (!isPciAddress(pci)) return;
    const first = seen.get(pci);
    if (first !== undefined) add(path, `PCI device ${pci} is already given as ${first}`);
    else seen.set(pci, where);
  };
  // A vendor:device selector may match several devices; only whole-device claims of one address can collide.
  (d.hostdev ?? []).forEach((h, i) => {
    if (h.mdevType === undefined) claim(h.pci, `devices.hostdev.${i}`, ['devices', 'hostdev', i, 'pci']);
  });
  if (d.gpu?.kind === 'passthrough') claim(d.gpu.pci, 'devices.gpu', ['devices', 'gpu', 'pci']);
}
