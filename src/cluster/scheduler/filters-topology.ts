/**
 * NUMA fit and hugepage filters (issue 22): a VM that asks to fit inside one
 * host node needs a node with enough CPUs and memory (and its hugepages, when
 * it has them); a VM backed by hugepages needs that many free pages of its
 * size, on its bound node when it names one. Hosts that published no
 * topology are refused only by VMs that ask for it. Pure.
 */
import type { FilterFn } from './filter-fn.js';
import type { LiveHost } from './live-host.js';

const GIB = 1024 ** 3;
const gib = (n: number): string => `${+(n / GIB).toFixed(2)} GiB`;

export const numaFilter: FilterFn = (c, h) => {
  const t = c.req.topology;
  if (!t?.singleNode) return undefined;
  const topo = h.topology;
  if (!topo?.nodes.length) return 'asks to fit in one host NUMA node; this host published no NUMA nodes';
  const need = { cpus: c.req.cpus, memoryBytes: c.req.memoryBytes };
  if (topo.pickNode(need, t)) return undefined;
  const nodes = topo.nodes.map((n) => `node ${n.id}: ${n.cpus} CPUs, ${gib(n.memoryBytes - n.usedMemory)} free of ${gib(n.memoryBytes)}${t.hugepages ? `, ${n.pages[t.hugepages.size] ?? 0} free ${t.hugepages.size} pages` : ''}`);
  const pages = t.hugepages ? ` and ${t.hugepages.pages} ${t.hugepages.size} hugepages` : '';
  return `no host node fits ${c.req.cpus} vCPUs and ${gib(c.req.memoryBytes)}${pages} in one node (${nodes.join('; ')})`;
};

export const hugepagesFilter: FilterFn = (c, h) => {
  const hp = c.req.topology?.hugepages;
  if (!hp) return undefined;
  const topo: LiveHost['topology'] = h.topology;
  if (!topo) return `needs ${hp.pages} free ${hp.size} hugepages; this host published no hugepage counts`;
  if (hp.node !== undefined && !topo.nodes.some((n) => n.id === hp.node)) return `needs hugepages on host node ${hp.node}; this host has nodes ${topo.nodes.map((n) => n.id).join(', ') || 'none'}`;
  const free = topo.freePages(hp.size, hp.node);
  if (free >= hp.pages) return undefined;
  const where = hp.node === undefined ? `this host has ${free} free (${topo.nodes.map((n) => `node ${n.id}: ${n.pages[hp.size] ?? 0}`).join(', ')})` : `host node ${hp.node} has ${free} free`;
  return `needs ${hp.pages} free ${hp.size} hugepages, ${where}`;
};
