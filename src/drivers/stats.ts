/**
 * Resource counters of a running VM, read on demand (a Prometheus scrape, `top`).
 * Every value is a cumulative counter or a current gauge; nothing is cached.
 */
import type { NumaLocality } from './numa.js';

export interface DiskCounters {
  /** The spec's disk name. */
  disk: string;
  readBytes: number;
  writeBytes: number;
  readOps: number;
  writeOps: number;
  flushOps: number;
  /** Total time spent in reads / writes, seconds (QEMU's *_total_time_ns). */
  readSeconds: number;
  writeSeconds: number;
}

export interface NicCounters {
  nic: string;
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
}

/** The guest's own view of its memory (virtio-balloon statistics), bytes. */
export interface GuestMemory {
  /** What the guest's kernel manages (its MemTotal). */
  totalBytes: number;
  /** Free plus reclaimable (its MemAvailable). */
  availableBytes: number;
  /** totalBytes − availableBytes. */
  usedBytes: number;
  /** When the guest made this report, ms since the epoch. */
  reportedAt: number;
}

export interface VmStats {
  /** CPU time (user + system) of the whole hypervisor process, seconds. */
  cpuSeconds: number | null;
  /** CPU time of each vCPU thread, seconds. */
  vcpuSeconds: Array<{ vcpu: number; seconds: number }>;
  /** Resident memory of the hypervisor process. */
  rssBytes: number | null;
  /** Guest memory as the balloon reports it; null without a balloon device. */
  balloonBytes: number | null;
  /** The guest's report of its memory; null when it has not reported (no balloon driver in the guest, not booted yet). */
  guestMemory: GuestMemory | null;
  disks: DiskCounters[];
  /** Only for NICs whose backend keeps counters (user-mode networking keeps none). */
  nics: NicCounters[];
  /** How long each monitor command of this sample took, seconds. */
  monitorCalls: Array<{ command: string; seconds: number }>;
  /** Where the guest's RAM sits on the host's NUMA nodes (drivers that can tell; null when it could not be read). */
  numa?: NumaLocality | null;
}

export interface StatsSource {
  stats(signal: AbortSignal): Promise<VmStats>;
}

export function canReportStats(i: object): i is StatsSource {
  return typeof (i as Partial<StatsSource>).stats === 'function';
}
