import { describe, expect, it } from 'vitest';
import type { QmpClient } from '../../qmp/index.js';
import { watchBlockJobs } from './block-job-watch.js';

/** A monitor whose one job `bk0` advances by `step` bytes a query. */
function monitor(step: number): QmpClient {
  let offset = 0;
  return {
    execute: async () => {
      offset = Math.min(1024 ** 2, offset + step);
      return [{ device: 'bk0', offset, len: 1024 ** 2, status: 'running' }, { device: 'other', offset: 0, len: 1 }];
    },
  } as unknown as QmpClient;
}

const never = new Promise<never>(() => undefined);

describe('watchBlockJobs', () => {
  it('gives up on a job that gains nothing for the stall limit, saying what it saw last', async () => {
    const err = await watchBlockJobs(monitor(0), ['bk0'], never, AbortSignal.timeout(5_000), { what: 'backup of data', stallMs: 200, intervalMs: 20 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TIMEOUT' });
    expect((err as Error).message).toMatch(/^backup of data: gave up after .* no progress for .*; last seen: bk0 running: 0\.0 of 1\.0 MiB$/);
  });

  it('lets a job that keeps gaining run past the stall limit, reports progress, and returns what `until` gives', async () => {
    const seen: number[] = [];
    const until = new Promise<string>((r) => setTimeout(() => r('done'), 400));
    const out = await watchBlockJobs(monitor(16 * 1024), ['bk0'], until, AbortSignal.timeout(5_000), { what: 'x', stallMs: 100, intervalMs: 20, onProgress: (d) => seen.push(d) });
    expect(out).toBe('done');
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.every((d, i) => i === 0 || d > seen[i - 1]!)).toBe(true);
  });
});
