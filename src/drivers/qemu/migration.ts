/** Polling a migration (outgoing or incoming) through query-migrate until it ends. */
import type { QmpClient } from '../../qmp/index.js';
import { abortError, PolyvisorError, sleep, type ErrorCode } from '../../shared/index.js';

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
    await sleep(o.intervalMs ?? 50, o.signal).catch(() => undefined);
  }
}
