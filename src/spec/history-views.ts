/**
 * Resource history (GET /v1/vms/{name}/history, GET /v1/host/history): the
 * figures the daemon sampled, at 10 s for the last hour and at 1 min for the
 * last day. Points are oldest first; a time the VM was not running has no
 * point (a gap), never a zero. A figure the daemon could not read is null.
 */

export const HISTORY_RANGES = ['1h', '6h', '1d'] as const;
export type HistoryRange = (typeof HISTORY_RANGES)[number];

export interface VmHistoryPoint {
  /** Start of the step, epoch milliseconds. */
  t: number;
  /** CPU time of the VM's QEMU process over the step, percent of its vCPUs (100: every vCPU busy). */
  cpuPercent: number | null;
  /** Memory QEMU holds on the host (resident set size). */
  memHostBytes: number | null;
  /** Memory the guest itself uses (balloon statistics); null where the VM reports none. */
  memGuestUsedBytes: number | null;
  /** Memory the guest has (the balloon's size, else the spec's memory). */
  memGuestTotalBytes: number | null;
  diskReadBps: number | null;
  diskWriteBps: number | null;
  /** The guest's NIC counters (guest agent), bytes per second received. */
  netRxBps: number | null;
  netTxBps: number | null;
}

export interface HostHistoryPoint {
  t: number;
  /** Busy time of all host CPUs over the step (100: every core busy). */
  cpuPercent: number | null;
  /** MemTotal − MemAvailable. */
  memUsedBytes: number | null;
  memTotalBytes: number | null;
  load1: number | null;
}

export interface HistoryView<P> {
  range: HistoryRange;
  stepSeconds: number;
  points: P[];
}

export type VmHistoryView = HistoryView<VmHistoryPoint>;
export type HostHistoryView = HistoryView<HostHistoryPoint>;
