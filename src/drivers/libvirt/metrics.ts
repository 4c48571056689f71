/**
 * Per-VM figures from one `virsh domstats --list-active` per host: CPU time,
 * guest memory in use (balloon: available − usable, else QEMU's RSS), disk
 * and NIC byte counters summed over devices.
 */
import type { ForeignMetrics, ForeignVmStats } from '../endpoint.js';
import type { LibvirtContext } from './context.js';
import { num, parseDomstats, sumIndexed } from './virsh-parse.js';

export function metricsPart(ctx: LibvirtContext): ForeignMetrics {
  return {
    async stats(signal) {
      const per = await Promise.all(
        ctx.hosts.map(async (h) => parseDomstats((await h.virsh.fixed([['domstats', '--raw', '--list-active', '--cpu-total', '--balloon', '--block', '--interface']], signal))[0]!)),
      );
      const out: ForeignVmStats[] = [];
      for (const rows of per) {
        for (const [vm, r] of rows) {
          const avail = num(r, 'balloon.available');
          const usable = num(r, 'balloon.usable');
          const rss = num(r, 'balloon.rss');
          const cpu = num(r, 'cpu.time');
          out.push({
            vm,
            cpuSeconds: cpu === null ? null : cpu / 1e9,
            memoryUsedBytes: avail !== null && usable !== null ? (avail - usable) * 1024 : rss !== null ? rss * 1024 : null,
            diskReadBytes: sumIndexed(r, 'block', 'rd.bytes'),
            diskWriteBytes: sumIndexed(r, 'block', 'wr.bytes'),
            netRxBytes: sumIndexed(r, 'net', 'rx.bytes'),
            netTxBytes: sumIndexed(r, 'net', 'tx.bytes'),
          });
        }
      }
      return out;
    },
  };
}
