/** A connected Proxmox VE endpoint: the inventory calls and the capability parts. */
import { isPolyvisorError } from '../../shared/index.js';
import type { EndpointInfo, EndpointSession, ForeignVm } from '../endpoint.js';
import type { PveClient } from './client.js';
import { clonePart } from './clone.js';
import { PveContext, type Timing } from './context.js';
import { toForeignVm } from './map.js';
import { metricsPart } from './metrics.js';
import { migrationPart } from './migration.js';
import { powerPart } from './power.js';
import { reconfigurePart } from './reconfigure.js';
import { snapshotsPart } from './snapshots.js';

/** Runs `fn` over `items`, at most `limit` at once, keeping the order. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export function createSession(client: PveClient, timing: Timing & { listConcurrency: number }): EndpointSession {
  const x = new PveContext(client, timing);
  return {
    info: async (signal): Promise<EndpointInfo> => {
      const [v, nodes] = await Promise.all([
        client.get('/version', {}, signal) as Promise<{ version?: string; release?: string } | null>,
        client.get('/nodes', {}, signal) as Promise<{ node?: string }[] | null>,
      ]);
      const version = v?.version ?? 'unknown';
      return {
        product: `Proxmox VE ${v?.release ?? version} (pve-manager ${version})`,
        version,
        hosts: (Array.isArray(nodes) ? nodes : []).map((n) => String(n.node)).sort(),
      };
    },
    /** One /cluster/resources call, then each VM's config and (per node, when any runs) the QMP run state. */
    list: async (signal): Promise<ForeignVm[]> => {
      const rows = await x.rows(signal);
      const busyNodes = [...new Set(rows.filter((r) => r.status === 'running').map((r) => r.node))];
      const qmp = new Map<string, string>();
      await Promise.all(busyNodes.map(async (node) => {
        const data = await client.get(`/nodes/${encodeURIComponent(node)}/qemu`, { full: 1 }, signal);
        for (const g of Array.isArray(data) ? (data as { vmid?: number; qmpstatus?: string }[]) : []) {
          if (g.qmpstatus) qmp.set(`${node}/${g.vmid}`, g.qmpstatus);
        }
      }));
      // A VM removed, or migrated (its config moves to the target node), since /cluster/resources answered is left
      // out of this round rather than failing the whole list; the next poll sees it where it is.
      const vms = await mapLimited(rows, timing.listConcurrency, async (r) => {
        try {
          return toForeignVm(r, await x.config(r, signal), qmp.get(`${r.node}/${r.vmid}`));
        } catch (err) {
          if (isPolyvisorError(err, 'FOREIGN_VM_NOT_FOUND')) return null;
          throw err;
        }
      });
      return vms.filter((v): v is ForeignVm => v !== null);
    },
    get: (vm, signal) => x.get(vm, signal),
    close: async () => client.close(),
    power: powerPart(x),
    snapshots: snapshotsPart(x),
    migration: migrationPart(x),
    reconfigure: reconfigurePart(x),
    clone: clonePart(x),
    metrics: metricsPart(x),
  };
}
