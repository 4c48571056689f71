/** rejoinAfterLoss: the order of its steps (watchdog gone, new watchdog, new lease, fenced VMs), retries, and abort. */
import { describe, expect, it } from 'vitest';
import type { Logger } from '../shared/index.js';
import { rejoinAfterLoss } from './rejoin.js';

const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, child: () => log } as unknown as Logger;

describe('rejoinAfterLoss', () => {
  it('waits for the old watchdog, starts a new one, retries the rejoin until the store answers, then recovers the fenced VMs', async () => {
    const steps: string[] = [];
    let exit!: () => void;
    const watchdogExited = new Promise<void>((r) => (exit = r));
    let failures = 2;
    const done = rejoinAfterLoss({
      watchdogExited,
      restartWatchdog: () => void steps.push('watchdog'),
      rejoin: async () => {
        steps.push('rejoin');
        if (failures-- > 0) throw new Error('STORE_UNAVAILABLE');
      },
      recoverFenced: async () => (steps.push('recover'), ['q1']),
      log, signal: new AbortController().signal, retryMs: 10,
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(steps).toEqual([]); // nothing before the old watchdog has fenced and exited
    exit();
    expect(await done).toBe(true);
    expect(steps).toEqual(['watchdog', 'rejoin', 'rejoin', 'rejoin', 'recover']);
  });

  it('stops when the daemon closes, before or during the rejoin', async () => {
    const ctl = new AbortController();
    const steps: string[] = [];
    const waiting = rejoinAfterLoss({
      watchdogExited: new Promise(() => undefined), restartWatchdog: () => void steps.push('watchdog'),
      rejoin: async () => void steps.push('rejoin'), recoverFenced: async () => [], log, signal: ctl.signal,
    });
    ctl.abort();
    expect(await waiting).toBe(false);
    const ctl2 = new AbortController();
    const retrying = rejoinAfterLoss({
      watchdogExited: Promise.resolve(), restartWatchdog: () => undefined,
      rejoin: async () => { throw new Error('no quorum'); }, recoverFenced: async () => (steps.push('recover'), []), log, signal: ctl2.signal, retryMs: 10,
    });
    await new Promise((r) => setTimeout(r, 40));
    ctl2.abort();
    expect(await retrying).toBe(false);
    expect(steps).toEqual([]);
  });
});
