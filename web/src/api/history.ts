/**
 * The daemon's metrics history (GET /v1/vms/:name/history, GET /v1/host/history):
 * points every `stepSeconds` over the range (src/spec/history-views.ts says
 * what each figure is), null where nothing was measured. A daemon without the routes answers 404: `null` here, "no history yet" on the page.
 */
import { useEffect, useState } from 'react';
import { ApiError, api, enc } from './client.js';

export { HISTORY_RANGES as RANGES } from '../../../src/spec/history-views.js';
export type { HistoryRange as Range, VmHistoryPoint, HostHistoryPoint, HistoryView as History } from '../../../src/spec/history-views.js';
import type { HistoryRange as Range, HistoryView as History, HostHistoryPoint, VmHistoryPoint } from '../../../src/spec/history-views.js';

async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.code !== 'VM_NOT_FOUND') return null;
    throw err;
  }
}

export const vmHistory = (vm: string, range: Range): Promise<History<VmHistoryPoint> | null> => orNull(api('GET', `/v1/vms/${enc(vm)}/history?range=${range}`));
export const hostHistory = (range: Range): Promise<History<HostHistoryPoint> | null> => orNull(api('GET', `/v1/host/history?range=${range}`));

/**
 * The history for `range`, read on open and again each step while the page
 * shows it (one new point per step; the history routes are cheap reads of a
 * ring, unlike the stats stream's monitor queries). `undefined` while the
 * first read runs, `null` when the daemon keeps no history.
 */
export function useHistory<P>(load: (r: Range) => Promise<History<P> | null>, range: Range, key: string): { data: History<P> | null | undefined; error: string } {
  const [data, setData] = useState<History<P> | null | undefined>(undefined);
  const [error, setError] = useState('');
  useEffect(() => {
    let gone = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setData(undefined);
    const read = (): void => {
      load(range).then((h) => {
        if (gone) return;
        setData(h);
        setError('');
        if (h) timer = setTimeout(read, Math.max(5, h.stepSeconds) * 1000);
      }, (err: unknown) => {
        if (gone) return;
        setError(err instanceof Error ? err.message : String(err));
        setData(null);
      });
    };
    read();
    return () => {
      gone = true;
      clearTimeout(timer);
    };
  }, [range, key]);
  return { data, error };
}
