/**
 * migrateOut against a scripted stand-in for QEMU's monitor (the real thing is
 * exercised by test/migration-hosts.test.ts): the switch-over with disk mirrors.
 */
import { describe, expect, it } from 'vitest';
import type { QmpClient } from '../../qmp/index.js';
import { silentLogger } from '../../shared/index.js';
import { migrateOut } from './migrate-source.js';

const tuning = { downtimeLimitMs: 50, autoConverge: false, postcopy: false, multifdChannels: 1, xbzrleCacheBytes: 0 };

describe('migrateOut with disk mirrors', () => {
  it('completes the mirrors once at pre-switchover, even when QEMU still says pre-switchover after migrate-continue', async () => {
    const log: string[] = [];
    let job: { device: string; len: number; offset: number; ready: boolean; status: string } | undefined;
    let queries = 0;
    let continuedAt = -1;
    const qmp = {
      on: () => () => undefined,
      execute: async (cmd: string, args?: Record<string, unknown>) => {
        log.push(cmd);
        switch (cmd) {
          case 'blockdev-mirror': job = { device: String(args!['job-id']), len: 100, offset: 100, ready: true, status: 'ready' }; return {};
          case 'block-job-cancel': job = undefined; return {};
          case 'query-block-jobs': return job ? [{ ...job }] : [];
          case 'migrate-continue': continuedAt = queries; return {};
          case 'query-migrate': {
            queries++;
            if (!log.includes('migrate')) return {};
            if (continuedAt < 0) return { status: 'pre-switchover' };
            // The migration thread has not run yet: two more answers say pre-switchover.
            if (queries <= continuedAt + 2) return { status: 'pre-switchover' };
            return { status: 'completed', 'total-time': 10, downtime: 2, ram: { transferred: 1, remaining: 0, total: 1 } };
          }
          default: return {};
        }
      },
    } as unknown as QmpClient;
    const stats = await migrateOut({ qmp, logger: silentLogger, expectPause: () => undefined }, 'tcp:127.0.0.1:4444', tuning, {
      signal: AbortSignal.timeout(10_000), intervalMs: 1,
      mirrors: [{ disk: 'data', host: '127.0.0.2', port: 10809, exportName: 'data' }], mirrorMode: 'background',
    });
    expect(log.filter((c) => c === 'migrate-continue')).toHaveLength(1);
    expect(log.filter((c) => c === 'block-job-cancel')).toHaveLength(1);
    expect(log).not.toContain('migrate_cancel');
    expect(stats.mirrors).toMatchObject({ disks: 1, mode: 'background' });
  });
});
