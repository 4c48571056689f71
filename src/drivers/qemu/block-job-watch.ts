/**
 * Waiting on QEMU block jobs (backup, stream) with a deadline that follows
 * the work: the jobs' offset/len are sampled while `until` is pending; the
 * wait fails only when they gain nothing for `stallMs` (the target or the
 * disk is stuck), with what it saw last. A constant outer limit stays as the
 * last resort (the caller's timeoutMs on the completion event).
 */
import type { QmpClient } from '../../qmp/index.js';
import { mibOf, sleep, WorkDeadline } from '../../shared/index.js';

/** The last-resort limit on one block job, whatever its progress. */
export const JOB_OUTER_LIMIT_MS = 6 * 3600_000;
/** Block jobs that gain nothing for this long are given up. */
export const BLOCK_JOB_STALL_MS = 120_000;

interface JobSample { device: string; offset: number; len: number; status?: string }

export interface WatchOptions {
  what: string;
  stallMs?: number;
  intervalMs?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function watchBlockJobs<T>(qmp: QmpClient, ids: readonly string[], until: Promise<T>, signal: AbortSignal, o: WatchOptions): Promise<T> {
  let finished = false;
  const w = new WorkDeadline(o.what, { stallMs: o.stallMs ?? BLOCK_JOB_STALL_MS });
  const poll = (async (): Promise<never> => {
    for (;;) {
      await sleep(o.intervalMs ?? 500, signal).catch(() => undefined);
      if (finished || signal.aborted) return new Promise<never>(() => undefined); // `until` decides
      const jobs = await qmp.execute<JobSample[]>('query-block-jobs', undefined, { signal }).catch(() => [] as JobSample[]);
      const ours = jobs.filter((j) => ids.includes(j.device));
      if (finished || ours.length === 0) continue;
      const done = ours.reduce((n, j) => n + j.offset, 0);
      const total = ours.reduce((n, j) => n + j.len, 0);
      o.onProgress?.(done, total);
      // "Left" grows when the guest writes into a job's range; the deadline counts only new lows of it.
      w.sample(total - done, `${ours.map((j) => `${j.device} ${j.status ?? 'running'}`).join(', ')}: ${mibOf(done, total)}`);
      if (w.stalled()) throw w.timeout();
    }
  })();
  try {
    return await Promise.race([until, poll]);
  } finally {
    finished = true;
  }
}
