/** Typed REST client for live migration (POST /v1/vms/:name/migrate and friends). */
import type { PeerView } from '../spec/index.js';
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
  /** Move to another daemon: its URL, a token with vm:migrate-in there, and its TLS fingerprint for https (admins only). */
  target?: { url: string; token: string; tlsFingerprint?: string };
  /** Move to a peer an admin registered on the source daemon (GET /v1/peers). */
  peer?: string;
  /** Move to this cluster host (GET /v1/hosts): its API and the cluster's peer credential, if the scheduler's filters accept it. */
  host?: string;
  /** Encrypt the stream and the disk copies (host-to-host). */
  tls?: boolean;
  /** Non-shared disks: auto (default: background, write-blocking once a mirror stops gaining), background or write-blocking. */
  diskMirror?: 'auto' | 'background' | 'write-blocking';
  /** auto: seconds a background mirror may gain nothing before it goes write-blocking (default 10). */
  mirrorStallSeconds?: number;
  /** Cap on each disk mirror's background copy, MiB/s. */
  diskBandwidthMiBps?: number;
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
  phase: 'preparing' | 'mirroring' | 'copying' | 'transferring' | 'postcopy' | 'switching-over';
  startedAt: string;
  postcopy: PostcopyModeName;
  explanation: string;
  progress: MigrationProgressView | null;
  disks?: { doneBytes: number; totalBytes: number; readyDisks: number; disks: number } | null;
  target?: string | null;
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
    /** Host-to-host moves that mirrored non-shared disks: the mode used and the time spent converging. */
    mirrors?: { disks: number; mode: 'background' | 'write-blocking'; switchedToActive: number; syncMs: number; behindBytes: number; convergeMs: number };
  };
  policy: { downtimeLimitMs: number; finalDowntimeLimitMs: number; maxBandwidthBytesPerS: number | null; autoConverge: boolean; postcopy: PostcopyModeName; multifdChannels: number; xbzrle: boolean };
  explanation: string;
  warnings: string[];
  /** Host-to-host moves only. */
  mode?: 'live' | 'offline';
  target?: { host: string; url: string };
  handoverMs?: number | null;
  /** From the end of the stream to the target's commit answer: the guest's pause is about stats.downtimeMs + commitMs. */
  commitMs?: number | null;
  copiedDisks?: string[];
}

/** An operation as the daemon shows it (GET /v1/operations/:id). */
export interface MigrationOperationView {
  id: string;
  kind: string;
  vm: string | null;
  status: string;
  progress: number;
  detail?: Record<string, unknown>;
  error: { code: string; message: string; hint: string } | null;
  result?: unknown;
}

export class MigrationClient {
  constructor(private readonly o: { endpoint: Endpoint; token?: string; timeoutMs?: number }) {}

  private async call<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    const t = timeoutMs ?? this.o.timeoutMs;
    return decode<T>(await request(this.o.endpoint, method, path, body, { ...(this.o.token ? { token: this.o.token } : {}), ...(t ? { timeoutMs: t } : {}) }));
  }

  listPeers(): Promise<PeerView[]> {
    return this.call('GET', '/v1/peers');
  }

  /** Registers (or replaces) a peer daemon: its URL, a token of its peer role, its pinned fingerprint for https (admin). */
  addPeer(name: string, target: { url: string; token: string; tlsFingerprint?: string }): Promise<PeerView> {
    return this.call('POST', '/v1/peers', { name, ...target });
  }

  removePeer(name: string): Promise<void> {
    return this.call('DELETE', `/v1/peers/${encodeURIComponent(name)}`);
  }

  /** Resolves when the migration has finished; the timeout follows the request's own (default 600 s) plus a margin. */
  migrate(name: string, opts: MigrateRequest = {}): Promise<MigrationResultView> {
    return this.call('POST', `/v1/vms/${encodeURIComponent(name)}/migrate`, opts, ((opts.timeoutSeconds ?? 600) + 60) * 1000);
  }

  /** Starts the move as an operation (202): follow it at /v1/operations/:id, cancel it there to roll back. */
  migrateAsync(name: string, opts: MigrateRequest = {}): Promise<MigrationOperationView> {
    return this.call('POST', `/v1/vms/${encodeURIComponent(name)}/migrate?async=1`, opts);
  }

  // The target side of host-to-host moves (called by the source daemon; permission vm:migrate-in).

  prepareIncoming<T>(req: object): Promise<T> {
    return this.call('POST', '/v1/migrations/incoming', req, 120_000);
  }

  incomingStatus<T>(id: string): Promise<T> {
    return this.call('GET', `/v1/migrations/incoming/${encodeURIComponent(id)}`, undefined, 5_000);
  }

  commitIncoming<T>(id: string): Promise<T> {
    return this.call('POST', `/v1/migrations/incoming/${encodeURIComponent(id)}/commit`, {}, 120_000);
  }

  abortIncoming<T>(id: string, vm: { name: string; id: string }): Promise<T> {
    return this.call('POST', `/v1/migrations/incoming/${encodeURIComponent(id)}/abort`, { vm: vm.name, vmId: vm.id }, 60_000);
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
