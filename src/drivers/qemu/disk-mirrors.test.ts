/**
 * DiskMirrors against a scripted stand-in for QEMU's monitor (the real thing
 * is exercised by test/migration-hosts.test.ts): what it asks QEMU, and when.
 */
import { describe, expect, it } from 'vitest';
import type { QmpClient } from '../../qmp/index.js';
import { silentLogger } from '../../shared/index.js';
import { DiskMirrors } from './disk-mirrors.js';

interface Job { device: string; len: number; offset: number; ready: boolean; status: string }

/** A monitor whose block jobs follow `step` on every query-block-jobs. */
function fakeQmp(step: (jobs: Map<string, Job>, calls: number) => void): { qmp: QmpClient; log: Array<[string, unknown]> } {
  const jobs = new Map<string, Job>();
  const log: Array<[string, unknown]> = [];
  let queries = 0;
  const qmp = {
    on: () => () => undefined,
    execute: async (cmd: string, args?: Record<string, unknown>) => {
      log.push([cmd, args]);
      if (cmd === 'blockdev-mirror') jobs.set(String(args!['job-id']), { device: String(args!['job-id']), len: 100, offset: 0, ready: false, status: 'running' });
      if (cmd === 'block-job-cancel') jobs.delete(String(args!['device']));
      if (cmd === 'query-block-jobs') {
        step(jobs, ++queries);
        return [...jobs.values()].map((j) => ({ ...j }));
      }
      return {};
    },
  } as unknown as QmpClient;
  return { qmp, log };
}

const mirror = { disk: 'data', host: '127.0.0.2', port: 10809, exportName: 'data' };
const copyModes = (log: Array<[string, unknown]>): unknown[] => log.filter(([c]) => c === 'blockdev-mirror').map(([, a]) => (a as Record<string, unknown>)['copy-mode']);

describe('DiskMirrors', () => {
  it('auto: a background mirror that stops gaining is restarted write-blocking, and the stats say so', async () => {
    const { qmp, log } = fakeQmp((jobs) => {
      for (const j of jobs.values()) {
        // Background: the guest dirties as fast as it copies (stuck at 50 left). Write-blocking: gains 25 a poll.
        const active = copyModes(log).at(-1) === 'write-blocking';
        j.offset = active ? Math.min(j.len, j.offset + 25) : 50;
        j.ready = j.offset === j.len;
      }
    });
    const m = new DiskMirrors(qmp, [mirror], { mode: 'auto', stallMs: 300, logger: silentLogger });
    await m.start(AbortSignal.timeout(10_000));
    await m.waitReady(AbortSignal.timeout(10_000));
    expect(copyModes(log)).toEqual(['background', 'write-blocking']);
    expect(log.some(([c, a]) => c === 'block-job-cancel' && (a as { force?: boolean }).force === true)).toBe(true);
    await m.complete(AbortSignal.timeout(10_000));
    expect(m.stats()).toMatchObject({ disks: 1, mode: 'write-blocking', switchedToActive: 1 });
    expect(log.at(-1)?.[0]).toBe('blockdev-del');
  });

  it('at the switch-over a mirror behind is waited for (vCPUs stopped), not failed, and the wait is reported', async () => {
    let behind = 0;
    const { qmp } = fakeQmp((jobs) => {
      for (const j of jobs.values()) {
        if (behind > 0) {
          behind--;
          j.ready = false;
          j.offset = 100 - behind * 10;
        } else {
          j.offset = j.len;
          j.ready = true;
        }
      }
    });
    const m = new DiskMirrors(qmp, [mirror], { mode: 'background', stallMs: 1_000, logger: silentLogger });
    await m.start(AbortSignal.timeout(10_000));
    await m.waitReady(AbortSignal.timeout(10_000));
    behind = 5;
    await m.complete(AbortSignal.timeout(10_000));
    expect(m.stats()).toMatchObject({ mode: 'background', behindBytes: 40 });
    expect(m.stats().convergeMs).toBeGreaterThan(0);
  });

  it('a job that vanishes fails the move with the disk named', async () => {
    const { qmp } = fakeQmp((jobs, n) => {
      if (n > 2) jobs.clear();
    });
    const m = new DiskMirrors(qmp, [mirror], { mode: 'auto', stallMs: 1_000, logger: silentLogger });
    await m.start(AbortSignal.timeout(10_000));
    await expect(m.waitReady(AbortSignal.timeout(10_000))).rejects.toMatchObject({ code: 'MIGRATION_FAILED', message: expect.stringMatching(/mirroring disk data .* stopped before the disks were in sync/) });
  });
});
