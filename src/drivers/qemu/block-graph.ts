/**
 * Where a disk's data lives in QEMU's block graph right now. The device's
 * root node is `disk-<name>` only until an external snapshot puts an overlay
 * on top; from then on the active node and its backing chain are found by
 * walking the graph from the device (x-debug-query-block-graph, stable
 * since QEMU 3.0), never by rebuilding names.
 */
import type { QmpClient } from '../../qmp/index.js';
import { PolyvisorError } from '../../shared/index.js';
import { diskNodes } from './names.js';

interface Graph {
  nodes: Array<{ id: number; name: string; type: string }>;
  edges: Array<{ parent: number; child: number; name: string }>;
}

/** Format node names from the active node down its backing chain (index 0 = active). */
export async function diskChain(qmp: QmpClient, disk: string, signal: AbortSignal): Promise<string[]> {
  return chainIn(await qmp.execute<Graph>('x-debug-query-block-graph', undefined, { signal }), disk);
}

function chainIn(g: Graph, disk: string): string[] {
  const dev = diskNodes(disk).device;
  const backend = g.nodes.find((n) => n.type === 'block-backend' && (n.name === dev || n.name.startsWith(`/machine/peripheral/${dev}/`)));
  if (!backend) throw new PolyvisorError('SNAPSHOT_FAILED', `disk ${disk} is not attached to the running VM`);
  const child = (id: number, edge: string) => g.edges.find((e) => e.parent === id && e.name === edge)?.child;
  const out: string[] = [];
  for (let cur = child(backend.id, 'root'); cur !== undefined; cur = child(cur, 'backing')) {
    out.push(g.nodes.find((n) => n.id === cur)!.name);
    if (out.length > 1000) throw new Error('backing chain loop in the block graph');
  }
  return out;
}

/** disk name → its active format node, for every disk in `disks`. */
export async function activeNodes(qmp: QmpClient, disks: readonly string[], signal: AbortSignal): Promise<string[]> {
  const g = await qmp.execute<Graph>('x-debug-query-block-graph', undefined, { signal });
  return disks.map((d) => chainIn(g, d)[0]!);
}
