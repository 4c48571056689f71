import { describe, expect, it } from 'vitest';
import { migrationCapabilities, migrationParameters, toProgress, toStats, UNLIMITED_BANDWIDTH } from './migrate-params.js';

const tuning = { downtimeLimitMs: 50, autoConverge: true, postcopy: true, multifdChannels: 1, xbzrleCacheBytes: 0 };

describe('migration QMP arguments', () => {
  it('sets matching capabilities on both ends and source-only ones on the source', () => {
    expect(migrationCapabilities(tuning, 'target')).toEqual([
      { capability: 'events', state: true }, { capability: 'postcopy-ram', state: true }, { capability: 'multifd', state: false },
    ]);
    expect(migrationCapabilities({ ...tuning, xbzrleCacheBytes: 1 << 24 }, 'source')).toContainEqual({ capability: 'xbzrle', state: true });
    expect(migrationCapabilities(tuning, 'source')).toContainEqual({ capability: 'auto-converge', state: true });
  });

  it('parameters: downtime, unlimited bandwidth, throttle steps, multifd channels', () => {
    expect(migrationParameters(tuning, 'source')).toEqual({
      'downtime-limit': 50, 'max-bandwidth': UNLIMITED_BANDWIDTH, 'cpu-throttle-initial': 30, 'cpu-throttle-increment': 20,
    });
    expect(migrationParameters({ ...tuning, multifdChannels: 4, maxBandwidthBytesPerS: 1e8, autoConverge: false }, 'source')).toEqual({
      'multifd-channels': 4, 'downtime-limit': 50, 'max-bandwidth': 1e8,
    });
    expect(migrationParameters({ ...tuning, multifdChannels: 4 }, 'target')).toEqual({ 'multifd-channels': 4 });
  });

  it('maps query-migrate to progress and stats', () => {
    const q = {
      status: 'active', 'total-time': 900, 'expected-downtime': 12, 'cpu-throttle-percentage': 30,
      ram: { transferred: 100, remaining: 50, total: 200, 'dirty-pages-rate': 1000, 'page-size': 4096, 'dirty-sync-count': 3, mbps: 5000 },
    };
    expect(toProgress(q)).toEqual({
      status: 'active', elapsedMs: 900, transferredBytes: 100, remainingBytes: 50, totalBytes: 200, dirtyPagesRate: 1000,
      pageSize: 4096, expectedDowntimeMs: 12, iteration: 3, mbps: 5000, cpuThrottlePercent: 30, postcopy: false,
    });
    expect(toStats({ ...q, status: 'completed', downtime: 7, 'setup-time': 2 }, true, 50)).toMatchObject({
      totalTimeMs: 900, downtimeMs: 7, setupTimeMs: 2, iterations: 3, postcopy: true, cpuThrottlePercent: 50,
    });
  });
});
