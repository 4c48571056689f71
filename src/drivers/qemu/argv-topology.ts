/**
 * QEMU argv for spec v2's CPU and memory topology (docs/topology.md): -cpu
 * with feature flags, -smp with dies and maxcpus, -m with DIMM slots, memory
 * backends bound to host nodes (hugepages from memfd), guest NUMA nodes and
 * their distances. PURE. A spec without v2 fields gives exactly the argv of
 * before (`-cpu MODEL -smp N,sockets,cores,threads -m SIZEK`).
 */
import { formatCpuList, HUGEPAGE_BYTES, parseCpuList, type VmSpec } from '../../spec/index.js';
import { opts, type OptValue } from './qemu-opts.js';

/** The machine's RAM backend when it is not plain anonymous memory (hugepages or a bound host node without guest NUMA). */
export const RAM_BACKEND_ID = 'pv-ram';
export const numaBackendId = (i: number): string => `pv-node${i}`;

/** Memory in KiB, so sizes like 262084Ki reach QEMU exactly (bytes are rounded up to whole KiB). */
export function memoryArg(bytes: number): string {
  return `${Math.ceil(bytes / 1024)}K`;
}

/** `-cpu`, `-smp`, `-m`, then memory backends and -numa. `model` is the checked model name (argv.ts refuses host without KVM). */
export function cpuMemoryArgs(spec: VmSpec, model: string): string[] {
  const c = spec.cpu;
  const v2Smp = c.max !== undefined || c.dies !== undefined;
  const smp = v2Smp
    ? opts(undefined, [['cpus', c.count], ['maxcpus', c.max ?? c.count], ['sockets', c.sockets], ['dies', c.dies ?? 1], ['cores', c.cores], ['threads', c.threads]])
    : opts(String(c.count), [['sockets', c.sockets], ['cores', c.cores], ['threads', c.threads]]);
  // QEMU refuses slots with maxmem equal to the RAM: a VM already at its ceiling (grown by `vm resize`) starts without slots.
  const max = spec.memoryLayout?.max && spec.memoryLayout.max.size > spec.memory ? spec.memoryLayout.max : undefined;
  return [
    '-cpu', [model, ...(c.flags ?? [])].join(','),
    '-smp', smp,
    '-m', max ? opts(memoryArg(spec.memory), [['slots', max.slots], ['maxmem', memoryArg(max.size)]]) : memoryArg(spec.memory),
    ...memoryBackendArgs(spec),
  ];
}

/** `0-1,4` → [["key","0-1"],["key","4"]]: QEMU takes a list as the key repeated (a comma would end the value). */
function listPairs(key: string, list: string): Array<[string, OptValue]> {
  return formatCpuList(parseCpuList(list) ?? []).split(',').filter((x) => x !== '').map((r) => [key, r] as [string, OptValue]);
}

/** One memory backend like the VM's RAM: plain, or memfd with hugepages; bound to host nodes when given. */
export function memoryBackendOpt(id: string, bytes: number, spec: VmSpec, hostNodes: string | undefined, policy: string | undefined): string {
  const hp = spec.memoryLayout?.hugepages;
  const bind: Array<[string, OptValue]> = hostNodes === undefined ? [] : [...listPairs('host-nodes', hostNodes), ['policy', policy ?? 'bind']];
  if (!hp) return opts('memory-backend-ram', [['id', id], ['size', bytes], ...bind]);
  // memfd with hugetlb needs no hugetlbfs mount; prealloc takes the pages at start, so a short pool fails then, not later in the guest.
  return opts('memory-backend-memfd', [['id', id], ['size', bytes], ['hugetlb', true], ['hugetlbsize', HUGEPAGE_BYTES[hp.size]], ['prealloc', true], ...bind]);
}

function memoryBackendArgs(spec: VmSpec): string[] {
  const lay = spec.memoryLayout;
  if (!lay) return [];
  const numa = lay.numa ?? [];
  if (numa.length === 0) {
    if (!lay.hugepages) return [];
    const node = lay.hugepages.hostNode;
    return [
      '-object', memoryBackendOpt(RAM_BACKEND_ID, spec.memory, spec, node === undefined ? undefined : String(node), undefined),
      '-machine', opts(undefined, [['memory-backend', RAM_BACKEND_ID]]),
    ];
  }
  const out: string[] = [];
  numa.forEach((n, i) => out.push('-object', memoryBackendOpt(numaBackendId(i), n.memory, spec, n.hostNodes, n.policy)));
  numa.forEach((n, i) => out.push('-numa', opts('node', [['nodeid', i], ...listPairs('cpus', n.cpus), ['memdev', numaBackendId(i)]])));
  numa.forEach((n, i) => n.distances?.forEach((val, j) => {
    if (j !== i) out.push('-numa', opts('dist', [['src', i], ['dst', j], ['val', val]]));
  }));
  return out;
}
