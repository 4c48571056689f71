/**
 * The host inventory (issue 22): this host's topology and devices read from
 * sysfs and procfs for GET /v1/host/inventory, `polyvisor host show` and the
 * /metrics topology series. Reads only; `root` is "/" (tests point it at a
 * fixture tree).
 */
import { readHostTopology } from '../drivers/qemu/index.js';
import { hostInventory, type HostInventoryView } from '../spec/index.js';

export function hostInventoryReader(hostName: string, root = '/'): () => Promise<HostInventoryView> {
  return async () => hostInventory(hostName, await readHostTopology(root, { names: true }));
}
