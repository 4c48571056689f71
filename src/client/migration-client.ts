/** Typed REST client for live migration (POST /v1/vms/:name/migrate and friends). */
import { decode, request, type Endpoint } from './transport.js';

export type PostcopyModeName = 'off' | 'manual' | 'after-precopy' | 'auto';

export interface MigrateRequest {
  downtimeMs?: number;
  bandwidthMiBps?: number;
  autoConverge?: boolean;
  postcopy?: PostcopyModeName;
  multifd?: number;
  xbzrle?: boolean;
  forceUnsafe?: boolean;
  timeoutSeconds?: number;
}

export interface MigrationProgressView {
  status: string;
  elapsedMs: number;
  transferredBytes: number;
  remainingBytes: number;
  totalBytes: number;
  dirtyPagesRate: number;
  pageSize: number;
  expectedDowntimeMs?: number;
  iteration: number;
  mbps: number;
  cpuThrottlePercent: number;
  postcopy: boolean;
}

export interface MigrationStatus {
  vm: string;
  phase: 'preparing' | 'transferring' | 'postcopy' | 'switching-over';
  startedAt: string;
  postcopy: PostcopyModeName;
  explanation: string;
  progress: MigrationProgressView | null;
}

export interface MigrationResultView {
  vm: string;
  state: string;
  sourcePid: number;
  targetPid: number;
  wallMs: number;
  stats: {
    totalTimeMs: number; downtimeMs: number; setupTimeMs: number; transferredBytes: number; totalBytes: number;
    iterations: number; postcopy: boolean; cpuThrottlePercent: number; mbps: number;
  };
  policy: { downtimeLimitMs: number; finalDowntimeLimitMs: number; maxBandwidthBytesPerS: number | null; autoConverge: boolean; postcopy: PostcopyModeName; multifdChannels: number; xbzrle: boolean };
  explanation: string;
  warnings: string[];
}

export class MigrationClient {
  constructor(private readonly o: { endpoint: Endpoint; token?: string; timeoutMs?: number }) {}

  private async call<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    const t = timeoutMs ?? this.o.timeoutMs;
    return decode<T>(await request(this.o.endpoint, method, path, body, { ...(this.o.token ? { token: this.o.token } : {}), ...(t ? { timeoutMs: t } : {}) }));
  }

  /** Resolves when the migration has finished; the timeout follows the request's own (default 600 s) plus a margin. */
  migrate(name: string, opts: MigrateRequest = {}): Promise<MigrationResultView> {
    return this.call('POST', `/v1/vms/${encodeURIComponent(name)}/migrate`, opts, ((opts.timeoutSeconds ?? 600) + 60) * 1000);
  }

  status(name: string): Promise<MigrationStatus> {
    return this.call('GET', `/v1/vms/${encodeURIComponent(name)}/migration`);
  }

  cancel(name: string): Promise<MigrationStatus> {
    return this.call('POST', `/v1/vms/${encodeURIComponent(name)}/migrate/cancel`, {});
  }

  startPostcopy(name: string): Promise<MigrationStatus> {
    return this.call('POST', `/v1/vms/${encodeURIComponent(name)}/migrate/postcopy`, {});
  }
}
