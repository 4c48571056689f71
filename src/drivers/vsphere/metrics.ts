/**
 * Per-VM figures from each VM's `summary.quickStats`, all VMs in one
 * RetrievePropertiesEx: guest memory in use. vSphere's CPU, disk and network
 * figures are rates (MHz, KB/s over 20 s samples of the PerformanceManager),
 * not the running totals ForeignVmStats holds: those stay null.
 */
import type { ForeignMetrics } from '../endpoint.js';
import type { Properties } from './property-collector.js';
import { num, text } from './soap-envelope.js';

export function metricsPart(props: Properties): ForeignMetrics {
  return {
    stats: async (signal) => {
      const all = await props.all('VirtualMachine', ['name', 'summary.quickStats.guestMemoryUsage'], signal);
      return all.map((o) => {
        const mb = num(o.props['summary.quickStats.guestMemoryUsage']);
        return {
          vm: text(o.props.name) ?? o.obj.value,
          cpuSeconds: null,
          memoryUsedBytes: mb === null ? null : mb * 1024 * 1024,
          diskReadBytes: null,
          diskWriteBytes: null,
          netRxBytes: null,
          netTxBytes: null,
        };
      });
    },
  };
}
