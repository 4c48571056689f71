/** What a finished migration reports (same host or host to host). */
import type { MigrationProgress, MigrationStats } from '../drivers/index.js';
import type { VmRecord } from '../store/index.js';

export interface MigrationResult {
  vm: string;
  state: VmRecord['state'];
  sourcePid: number;
  targetPid: number;
  /** Wall time of the whole operation, preparing the target included. */
  wallMs: number;
  /** QEMU's own figures: total-time, downtime, setup-time, bytes, passes. */
  stats: MigrationStats;
  policy: { downtimeLimitMs: number; finalDowntimeLimitMs: number; maxBandwidthBytesPerS: number | null; autoConverge: boolean; postcopy: string; multifdChannels: number; xbzrle: boolean };
  explanation: string;
  warnings: string[];
}

export type ProgressListener = (p: MigrationProgress) => void;
