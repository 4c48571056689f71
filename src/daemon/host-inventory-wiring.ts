/**
 * The host inventory (issue 22): this host's topology and devices read from
 * sysfs and procfs for GET /v1/host/inventory, `polyvisor host show` and the
 * /metrics topology series. Reads only; `root` is "/" (tests point it at a
 * fixture tree).
 */
import { pciInUse, readHostTopology } from '../drivers/qemu/index.js';
import { hostInventory, placementFactsOf, type HostInventoryView, type HostPlacementFacts } from '../spec/index.js';

/** How often a cluster member republishes its placement facts (free hugepages and GPUs change as VMs start and stop). */
export const TOPOLOGY_PUBLISH_EVERY_MS = 30_000;

export function hostInventoryReader(hostName: string, root = '/'): () => Promise<HostInventoryView> {
  return async () => hostInventory(hostName, await readHostTopology(root, { names: true }));
}

/** What this host publishes for the scheduler's numa, hugepages and devices filters; GPUs other QEMUs hold count as taken. */
export async function hostPlacementFacts(root = '/'): Promise<HostPlacementFacts> {
  const [facts, inUse] = await Promise.all([readHostTopology(root), pciInUse(root)]);
  return placementFactsOf(hostInventory('', facts), inUse);
}
