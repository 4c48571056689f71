/**
 * Turns two readings of cumulative counters into the figures of one step:
 * CPU percent and bytes per second. Pure. A rate needs a previous reading of
 * the same process no older than `maxGapMs`; a counter that went down (QEMU
 * restarted, a disk detached) gives null for that figure, never a negative.
 * Rates are whole bytes per second; percentages keep two decimals.
 */
import type { HostHistoryPoint, VmHistoryPoint } from '../spec/index.js';

/** One sample of a VM: counters summed over its disks and NICs; null where not read. */
export interface VmReading {
  t: number;
  vcpus: number;
  cpuSeconds: number | null;
  rssBytes: number | null;
  guestUsedBytes: number | null;
  guestTotalBytes: number | null;
  diskReadBytes: number | null;
  diskWriteBytes: number | null;
  netRxBytes: number | null;
  netTxBytes: number | null;
}

export interface HostReading {
  t: number;
  /** CPU time of all cores in every mode, seconds. */
  cpuTotalSeconds: number;
  /** Of which idle and iowait. */
  cpuIdleSeconds: number;
  memUsedBytes: number;
  memTotalBytes: number;
  load1: number;
}

/** The figures of a point without its time (spec/history-views.ts). */
export type VmFigures = Omit<VmHistoryPoint, 't'>;
export type HostFigures = Omit<HostHistoryPoint, 't'>;

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Growth of a counter per second, or null (no previous reading, or the counter went down). */
function perSecond(now: number | null, before: number | null | undefined, seconds: number | null): number | null {
  if (seconds === null || now === null || before === null || before === undefined) return null;
  const d = now - before;
  return d < 0 ? null : d / seconds;
}

const bytesPerSecond = (now: number | null, before: number | null | undefined, seconds: number | null): number | null => {
  const r = perSecond(now, before, seconds);
  return r === null ? null : Math.round(r);
};

function elapsed(t: number, prev: { t: number } | undefined, maxGapMs: number): number | null {
  if (!prev) return null;
  const ms = t - prev.t;
  return ms > 0 && ms <= maxGapMs ? ms / 1000 : null;
}

export function vmFigures(r: VmReading, prev: VmReading | undefined, maxGapMs: number): VmFigures {
  const s = elapsed(r.t, prev, maxGapMs);
  const cpu = perSecond(r.cpuSeconds, prev?.cpuSeconds, s);
  return {
    cpuPercent: cpu === null || r.vcpus < 1 ? null : round((cpu / r.vcpus) * 100, 2),
    memHostBytes: r.rssBytes,
    memGuestUsedBytes: r.guestUsedBytes,
    memGuestTotalBytes: r.guestTotalBytes,
    diskReadBps: bytesPerSecond(r.diskReadBytes, prev?.diskReadBytes, s),
    diskWriteBps: bytesPerSecond(r.diskWriteBytes, prev?.diskWriteBytes, s),
    netRxBps: bytesPerSecond(r.netRxBytes, prev?.netRxBytes, s),
    netTxBps: bytesPerSecond(r.netTxBytes, prev?.netTxBytes, s),
  };
}

export function hostFigures(r: HostReading, prev: HostReading | undefined, maxGapMs: number): HostFigures {
  const s = elapsed(r.t, prev, maxGapMs);
  let cpuPercent: number | null = null;
  if (s !== null && prev) {
    const total = r.cpuTotalSeconds - prev.cpuTotalSeconds;
    const idle = r.cpuIdleSeconds - prev.cpuIdleSeconds;
    if (total > 0 && idle >= 0 && idle <= total) cpuPercent = round(((total - idle) / total) * 100, 2);
  }
  return { cpuPercent, memUsedBytes: r.memUsedBytes, memTotalBytes: r.memTotalBytes, load1: r.load1 };
}
