/**
 * A running QEMU's guest-RAM locality (/proc/PID/maps + numa_maps, parsed by
 * numa-maps.ts) and moving its pages between host nodes with numactl's
 * `migratepages PID FROM TO` (argv only; migrate_pages(2) underneath).
 */
import { readFile } from 'node:fs/promises';
import { runChecked } from '../../shared/index.js';
import { formatCpuList, parseCpuList, type VmSpec } from '../../spec/index.js';
import type { NumaLocality } from '../numa.js';
import { guestRamByNode, localityOf } from './numa-maps.js';

const MIB = 1024 * 1024;

/** The host nodes the spec binds guest RAM to (memory.numa hostNodes, or memory.hugepages.hostNode); [] when unbound. */
export function boundHostNodes(spec: Pick<VmSpec, 'memoryLayout'>): number[] {
  const lay = spec.memoryLayout;
  const nodes = new Set<number>();
  for (const g of lay?.numa ?? []) for (const n of g.hostNodes === undefined ? [] : parseCpuList(g.hostNodes) ?? []) nodes.add(n);
  if (nodes.size === 0 && lay?.hugepages?.hostNode !== undefined) nodes.add(lay.hugepages.hostNode);
  return [...nodes].sort((a, b) => a - b);
}

/** The smallest mapping counted as guest RAM: the VM's smallest RAM block, at most 64 MiB. */
export function minRamBlock(spec: Pick<VmSpec, 'memory' | 'memoryLayout'>): number {
  const blocks = spec.memoryLayout?.numa?.map((g) => g.memory) ?? [spec.memory];
  return Math.min(64 * MIB, ...blocks);
}

export async function readNumaLocality(pid: number, spec: Pick<VmSpec, 'memory' | 'memoryLayout'>, procRoot = '/proc'): Promise<NumaLocality> {
  const [maps, numaMaps] = await Promise.all([readFile(`${procRoot}/${pid}/maps`, 'utf8'), readFile(`${procRoot}/${pid}/numa_maps`, 'utf8')]);
  return localityOf(guestRamByNode(maps, numaMaps, minRamBlock(spec)), boundHostNodes(spec));
}

/** `migratepages PID FROM TO`: moves the process's pages on FROM nodes to TO nodes. */
export async function migrateProcessPages(pid: number, from: readonly number[], to: readonly number[], signal: AbortSignal, binary = 'migratepages'): Promise<void> {
  if (!Number.isInteger(pid) || pid <= 0 || from.length === 0 || to.length === 0) throw new Error(`migrateProcessPages: bad arguments ${pid} ${from.join(',')} ${to.join(',')}`);
  await runChecked(binary, [String(pid), formatCpuList(from), formatCpuList(to)], { timeoutMs: 10 * 60_000, signal, failCode: 'INTERNAL' });
}
