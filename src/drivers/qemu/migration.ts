/** Polling a migration (outgoing or incoming) through query-migrate until it ends. */
import type { QmpClient } from '../../qmp/index.js';
import { abortError, anySignal, PolyvisorError, sleep, type ErrorCode } from '../../shared/index.js';

export interface MigrateInfo {
  status?: string;
  'error-desc'?: string;
  ram?: { transferred?: number; total?: number; remaining?: number };
  'total-time'?: number;
  downtime?: number;
}

/** Raised from QEMU's default 128 MiB/s: a save is a local copy and the guest is paused anyway. */
export const SAVE_BANDWIDTH_BYTES_PER_S = 10 * 1024 ** 3;

export async function waitMigration(
  qmp: QmpClient,
  o: { signal: AbortSignal; failCode: ErrorCode; what: string; onProgress?: (fraction: number) => void; intervalMs?: number },
): Promise<MigrateInfo> {
  const events = new MigrationEvents(qmp);
  try {
    for (;;) {
      if (o.signal.aborted) throw abortError(o.signal, o.what);
      const info = await qmp.execute<MigrateInfo>('query-migrate', undefined, { signal: o.signal });
      switch (info.status) {
        case 'completed':
          return info;
        case 'failed':
        case 'cancelled':
          throw new PolyvisorError(o.failCode, `${o.what} ${info.status}: ${info['error-desc'] ?? 'QEMU gave no reason'}`);
        default: {
          const { transferred, total } = info.ram ?? {};
          if (o.onProgress && transferred !== undefined && total) o.onProgress(Math.min(0.99, transferred / total));
        }
      }
      await events.nap(o.intervalMs ?? 50, o.signal).catch(() => undefined);
    }
  } finally {
    events.close();
  }
}

/**
 * Waits between query-migrate samples that end early when QEMU announces a
 * status change (MIGRATION event; the `events` capability is on for moves),
 * so the end of a migration is seen at once instead of up to one interval
 * late. Subscribed for the whole loop, so an event that arrives while a
 * query is in flight still cuts the next wait short.
 */
export class MigrationEvents {
  private pending = false;
  private wake: (() => void) | undefined;
  private readonly off: () => void;

  constructor(qmp: QmpClient) {
    this.off = qmp.on('event', (e) => {
      if (e.event !== 'MIGRATION') return;
      this.pending = true;
      this.wake?.();
    });
  }

  /** Sleeps `ms`, or less if a MIGRATION event comes (or came since the last nap). Rejects when `signal` aborts. */
  async nap(ms: number, signal?: AbortSignal): Promise<void> {
    if (!this.pending) {
      const woken = new AbortController();
      this.wake = () => woken.abort();
      try {
        await sleep(ms, signal ? anySignal([signal, woken.signal]) : woken.signal);
      } catch (err) {
        if (signal?.aborted) throw err; // otherwise it was the event: wake up
      } finally {
        this.wake = undefined;
      }
    }
    this.pending = false;
  }

  close(): void {
    this.off();
    this.wake?.();
  }
}
