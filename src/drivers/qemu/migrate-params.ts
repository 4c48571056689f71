/**
 * Live-migration tuning → QMP arguments, and query-migrate → progress/stats.
 * PURE (unit-tested in migrate-params.test.ts).
 */
import type { MigrationProgress, MigrationStats, MigrationTuning } from '../migratable.js';

/** QEMU 7.2 has no "unlimited" max-bandwidth; this is far above any link we drive. */
export const UNLIMITED_BANDWIDTH = 64 * 1024 ** 3;

export interface QueryMigrate {
  status?: string;
  'error-desc'?: string;
  'total-time'?: number;
  'expected-downtime'?: number;
  downtime?: number;
  'setup-time'?: number;
  'cpu-throttle-percentage'?: number;
  ram?: {
    transferred?: number;
    remaining?: number;
    total?: number;
    'dirty-pages-rate'?: number;
    'page-size'?: number;
    'dirty-sync-count'?: number;
    mbps?: number;
  };
}

type Capability = { capability: string; state: boolean };

/**
 * Capabilities for one end. postcopy-ram and multifd must match on both ends;
 * auto-converge and xbzrle matter on the source only (harmless on the target).
 */
export function migrationCapabilities(t: MigrationTuning, end: 'source' | 'target'): Capability[] {
  const caps: Capability[] = [
    { capability: 'events', state: true },
    { capability: 'postcopy-ram', state: t.postcopy },
    { capability: 'multifd', state: t.multifdChannels > 1 },
  ];
  if (end === 'source') {
    caps.push({ capability: 'auto-converge', state: t.autoConverge }, { capability: 'xbzrle', state: t.xbzrleCacheBytes > 0 });
  }
  return caps;
}

export function migrationParameters(t: MigrationTuning, end: 'source' | 'target'): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  if (t.multifdChannels > 1) p['multifd-channels'] = t.multifdChannels;
  if (end === 'target') return p;
  p['downtime-limit'] = Math.max(1, Math.round(t.downtimeLimitMs));
  p['max-bandwidth'] = Math.round(t.maxBandwidthBytesPerS ?? UNLIMITED_BANDWIDTH);
  if (t.xbzrleCacheBytes > 0) p['xbzrle-cache-size'] = t.xbzrleCacheBytes;
  if (t.autoConverge) {
    // Throttle harder and sooner than QEMU's 20 %/+10 %: a guest that outruns the link converges in seconds, not tens.
    p['cpu-throttle-initial'] = 30;
    p['cpu-throttle-increment'] = 20;
  }
  return p;
}

export function toProgress(q: QueryMigrate): MigrationProgress {
  const ram = q.ram ?? {};
  return {
    status: q.status ?? 'none',
    elapsedMs: q['total-time'] ?? 0,
    transferredBytes: ram.transferred ?? 0,
    remainingBytes: ram.remaining ?? 0,
    totalBytes: ram.total ?? 0,
    dirtyPagesRate: ram['dirty-pages-rate'] ?? 0,
    pageSize: ram['page-size'] ?? 4096,
    ...(q['expected-downtime'] !== undefined ? { expectedDowntimeMs: q['expected-downtime'] } : {}),
    iteration: ram['dirty-sync-count'] ?? 0,
    mbps: ram.mbps ?? 0,
    cpuThrottlePercent: q['cpu-throttle-percentage'] ?? 0,
    postcopy: q.status === 'postcopy-active',
  };
}

export function toStats(q: QueryMigrate, sawPostcopy: boolean, maxThrottle: number): MigrationStats {
  const ram = q.ram ?? {};
  return {
    totalTimeMs: q['total-time'] ?? 0,
    downtimeMs: q.downtime ?? 0,
    setupTimeMs: q['setup-time'] ?? 0,
    transferredBytes: ram.transferred ?? 0,
    totalBytes: ram.total ?? 0,
    iterations: ram['dirty-sync-count'] ?? 0,
    postcopy: sawPostcopy,
    cpuThrottlePercent: Math.max(maxThrottle, q['cpu-throttle-percentage'] ?? 0),
    mbps: ram.mbps ?? 0,
  };
}

/** Statuses after which query-migrate will not change any more. */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);
