/**
 * Feeds the history recorder: every interval one reading of the host (/proc)
 * and of each VM with a process (a fresh SharedVmSamples sampling: one monitor
 * round per VM, with a deadline each; /metrics reuses it). History lives in <stateDir>/history.db; a file that cannot
 * be opened leaves history in memory for this run, with a warning.
 */
import path from 'node:path';
import { HistoryDb, HistoryRecorder, type HistoryReadings, type HostReading, type VmReading } from '../history/index.js';
import type { VmSample, VmService } from '../lifecycle/index.js';
import { readHost, type HostSample } from '../metrics/index.js';
import type { Logger } from '../shared/index.js';
import type { SharedVmSamples } from './vm-samples.js';

const sum = <T>(items: readonly T[], f: (x: T) => number): number | null => (items.length === 0 ? null : items.reduce((a, x) => a + f(x), 0));

export function vmReadingOf(s: VmSample, t: number): VmReading | null {
  const st = s.stats;
  if (!st) return null;
  return {
    t,
    vcpus: s.vcpus,
    cpuSeconds: st.cpuSeconds,
    rssBytes: st.rssBytes,
    guestUsedBytes: st.guestMemory?.usedBytes ?? null, // the guest's balloon statistics; null when it does not report
    guestTotalBytes: st.balloonBytes ?? s.memoryBytes,
    diskReadBytes: sum(st.disks, (d) => d.readBytes),
    diskWriteBytes: sum(st.disks, (d) => d.writeBytes),
    netRxBytes: sum(st.nics, (n) => n.rxBytes),
    netTxBytes: sum(st.nics, (n) => n.txBytes),
  };
}

export function hostReadingOf(h: HostSample, t: number): HostReading {
  const cpu = Object.values(h.cpuSeconds).reduce((a, x) => a + x, 0);
  return {
    t,
    cpuTotalSeconds: cpu,
    cpuIdleSeconds: (h.cpuSeconds['idle'] ?? 0) + (h.cpuSeconds['iowait'] ?? 0),
    memUsedBytes: h.memTotalBytes - h.memAvailableBytes,
    memTotalBytes: h.memTotalBytes,
    load1: h.load[0],
  };
}

export function wireHistory(o: { stateDir: string; service: VmService; samples: SharedVmSamples; intervalSeconds: number; logger: Logger }): { recorder: HistoryRecorder; close: () => Promise<void> } {
  const log = o.logger.child({ component: 'history' });
  const file = path.join(o.stateDir, 'history.db');
  let db: HistoryDb;
  try {
    db = new HistoryDb(file);
  } catch (err) {
    log.warn({ err, file }, 'cannot open the history file: history is kept in memory until the daemon stops');
    db = new HistoryDb(':memory:');
  }
  const source = {
    async read(): Promise<HistoryReadings> {
      const t = Date.now();
      const [host, vms] = await Promise.all([readHost().catch(() => null), o.samples.get(0)]);
      return {
        host: host ? hostReadingOf(host, t) : null,
        vms: vms.flatMap((s) => {
          const reading = vmReadingOf(s, t);
          return reading ? [{ id: s.id, reading }] : [];
        }),
      };
    },
  };
  const recorder = new HistoryRecorder({ db, source, intervalMs: o.intervalSeconds * 1000, logger: log });
  const onRemoved = (r: { id?: string }): void => {
    if (r.id) recorder.forget(r.id);
  };
  o.service.states.on('removed', onRemoved);
  recorder.start();
  return {
    recorder,
    close: async () => {
      o.service.states.off('removed', onRemoved);
      await recorder.close();
    },
  };
}
