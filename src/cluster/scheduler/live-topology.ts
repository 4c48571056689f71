/**
 * A host's published topology as placements use it up: memory claimed per
 * NUMA node by VMs that asked for one node, free hugepages per node and size,
 * GPUs taken and mdev instances used. The filters (filters-topology.ts,
 * filters-devices.ts) and LiveHost.place() choose with the same functions, so
 * a batch placement never gives one node's memory, page or GPU twice. What
 * VMs already on the host hold is in the published numbers (free pages, free
 * GPUs, mdev instances); node memory counts only the VMs placed in this run
 * (node sizes are capacities, like the cpu and memory filters'). Pure.
 */
import type { HostTopology, HugepageSize, TopologyRequest } from './types.js';

interface LiveNode {
  readonly id: number;
  readonly cpus: number;
  readonly memoryBytes: number;
  usedMemory: number;
  readonly pages: Partial<Record<HugepageSize, number>>;
}

interface LiveGpu {
  readonly address: string;
  readonly model: string;
  free: boolean;
  readonly mdev: Record<string, number>;
}

export interface NodeNeed {
  readonly cpus: number;
  readonly memoryBytes: number;
}

/** What the capacity index prunes by (capacity-index.ts): kept up to date by place(). */
export interface TopologyRoom {
  /** The most CPUs and free memory of one node. */
  cpus: number;
  free: number;
  /** Free hugepages of all nodes, by size. */
  p2: number;
  p1: number;
  /** Free GPUs and free mdev instances of all types. */
  gpus: number;
  mdev: number;
}

export class LiveTopology {
  readonly nodes: LiveNode[];
  readonly gpus: LiveGpu[];
  readonly room: TopologyRoom = { cpus: -Infinity, free: -Infinity, p2: 0, p1: 0, gpus: 0, mdev: 0 };

  constructor(t: HostTopology) {
    this.nodes = t.nodes.map((n) => ({ id: n.id, cpus: n.cpus, memoryBytes: n.memoryBytes, usedMemory: 0, pages: { ...(n.hugepages ?? {}) } }));
    this.gpus = t.gpus.map((g) => ({ address: g.address, model: g.model, free: g.free, mdev: { ...(g.mdev ?? {}) } }));
    this.measure();
  }

  private measure(): void {
    const r = this.room;
    r.cpus = -Infinity;
    r.free = -Infinity;
    r.p2 = 0;
    r.p1 = 0;
    r.gpus = 0;
    r.mdev = 0;
    for (const n of this.nodes) {
      if (n.cpus > r.cpus) r.cpus = n.cpus;
      if (n.memoryBytes - n.usedMemory > r.free) r.free = n.memoryBytes - n.usedMemory;
      r.p2 += n.pages['2M'] ?? 0;
      r.p1 += n.pages['1G'] ?? 0;
    }
    for (const g of this.gpus) {
      if (g.free) r.gpus++;
      for (const k in g.mdev) r.mdev += g.mdev[k]!;
    }
  }

  freePages(size: HugepageSize, node?: number): number {
    return this.nodes.reduce((a, n) => a + (node === undefined || n.id === node ? n.pages[size] ?? 0 : 0), 0);
  }

  /** The node a single-node VM goes to: the fullest that still fits (best fit), lowest id on ties; undefined when none fits. */
  pickNode(need: NodeNeed, t: TopologyRequest): LiveNode | undefined {
    let best: LiveNode | undefined;
    for (const n of this.nodes) {
      if (n.cpus < need.cpus || n.memoryBytes - n.usedMemory < need.memoryBytes) continue;
      const hp = t.hugepages;
      if (hp && ((hp.node !== undefined && hp.node !== n.id) || (n.pages[hp.size] ?? 0) < hp.pages)) continue;
      if (!best || n.memoryBytes - n.usedMemory < best.memoryBytes - best.usedMemory) best = n;
    }
    return best;
  }

  /** Free GPUs for each entry of `gpus` (a model or an address), none used twice; undefined at the first entry without one. */
  pickGpus(gpus: readonly string[]): { picked: LiveGpu[]; missing?: string } {
    const picked: LiveGpu[] = [];
    for (const want of gpus) {
      const g = this.gpus.find((x) => x.free && !picked.includes(x) && (x.model === want || x.address === want));
      if (!g) return { picked, missing: want };
      picked.push(g);
    }
    return { picked };
  }

  /** A parent with a free instance for each mdev type asked (counting several of one type); the first type short, if any. */
  mdevShort(types: readonly string[]): string | undefined {
    const need = new Map<string, number>();
    for (const t of types) need.set(t, (need.get(t) ?? 0) + 1);
    for (const [t, n] of need) if (this.gpus.reduce((a, g) => a + (g.mdev[t] ?? 0), 0) < n) return t;
    return undefined;
  }

  /** Records a VM placed here: its node's memory and pages, its GPUs, its mdev instances. */
  place(need: NodeNeed, t: TopologyRequest): void {
    const hp = t.hugepages;
    if (t.singleNode) {
      const n = this.pickNode(need, t);
      if (n) {
        n.usedMemory += need.memoryBytes;
        if (hp) n.pages[hp.size] = (n.pages[hp.size] ?? 0) - hp.pages;
      }
    } else if (hp) {
      // pages from the bound node, else from the nodes with the most free first
      let left = hp.pages;
      const order = [...this.nodes].filter((n) => hp.node === undefined || n.id === hp.node).sort((a, b) => (b.pages[hp.size] ?? 0) - (a.pages[hp.size] ?? 0));
      for (const n of order) {
        const take = Math.min(left, n.pages[hp.size] ?? 0);
        n.pages[hp.size] = (n.pages[hp.size] ?? 0) - take;
        left -= take;
      }
    }
    for (const g of this.pickGpus(t.gpus ?? []).picked) g.free = false;
    for (const type of t.mdevTypes ?? []) {
      const g = this.gpus.find((x) => (x.mdev[type] ?? 0) > 0);
      if (g) g.mdev[type]! -= 1;
    }
    this.measure();
  }
}
