/**
 * Per-VM figures from one GET /cluster/resources?type=vm: memory in use and
 * the disk and network byte counters since the guest started. Proxmox gives
 * CPU only as a current utilisation fraction of the VM's vCPUs, not a
 * counter: it is cpuFraction, and cpuSeconds is null rather than invented. VMs whose name is taken twice are keyed by
 * their id (node/vmid).
 */
import type { ForeignMetrics } from '../endpoint.js';
import type { PveContext } from './context.js';
import { vmId } from './map.js';

const n = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function metricsPart(x: PveContext): ForeignMetrics {
  return {
    stats: async (s) => {
      const rows = await x.rows(s);
      const count = new Map<string, number>();
      for (const r of rows) count.set(r.name, (count.get(r.name) ?? 0) + 1);
      return rows
        .filter((r) => r.status === 'running')
        .map((r) => ({
          vm: count.get(r.name) === 1 ? r.name : vmId(r.node, r.vmid),
          cpuSeconds: null,
          cpuFraction: n(r.cpu),
          memoryUsedBytes: n(r.mem),
          diskReadBytes: n(r.diskread),
          diskWriteBytes: n(r.diskwrite),
          netRxBytes: n(r.netin),
          netTxBytes: n(r.netout),
        }));
    },
  };
}
