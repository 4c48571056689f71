/**
 * What a VM spec asks of a host's topology, for the numa, hugepages and
 * devices filters: `memory.singleHostNode`; hugepages (pages of the size for
 * all of memory, from `memory.hugepages.hostNode` or from the one host node
 * every guest node is bound to); a passed-through GPU (its vendor:device or
 * address); one mdev instance per mediated hostdev or GPU. Whole hostdevs
 * that are not GPUs are checked at start only (hosts publish their GPUs). Pure.
 */
import { HUGEPAGE_BYTES, parseCpuList, type VmSpec } from '../../spec/index.js';
import type { TopologyRequest } from './types.js';

export function topologyRequestOf(spec: Pick<VmSpec, 'memory' | 'memoryLayout' | 'devices'>): TopologyRequest | undefined {
  const lay = spec.memoryLayout;
  const out: { -readonly [K in keyof TopologyRequest]: TopologyRequest[K] } = {};
  if (lay?.singleHostNode) out.singleNode = true;
  if (lay?.hugepages) {
    const bound = new Set((lay.numa ?? []).flatMap((n) => (n.hostNodes === undefined ? [-1] : parseCpuList(n.hostNodes) ?? [])));
    const node = lay.hugepages.hostNode ?? (bound.size === 1 && !bound.has(-1) ? [...bound][0] : undefined);
    out.hugepages = { size: lay.hugepages.size, pages: Math.ceil(spec.memory / HUGEPAGE_BYTES[lay.hugepages.size]), ...(node === undefined ? {} : { node }) };
  }
  const d = spec.devices;
  if (d?.gpu?.kind === 'passthrough') out.gpus = [d.gpu.pci];
  const mdev = [...(d?.hostdev ?? []).flatMap((h) => (h.mdevType === undefined ? [] : [h.mdevType])), ...(d?.gpu?.kind === 'mediated' ? [d.gpu.mdevType] : [])];
  if (mdev.length) out.mdevTypes = mdev;
  return Object.keys(out).length ? out : undefined;
}
