/**
 * The stacks applied on this host (GET /v1/stacks), shared by the tree
 * section and the page: read once per connection of the event stream, again
 * when a stack operation ends, and after the page changes something.
 */
import { useEffect, useSyncExternalStore } from 'react';
import { api, ApiError } from '../../api/client.js';
import { useCan, useStore } from '../../api/store.js';
import type { StackSummaryView } from '../../api/types.js';

export interface StackData {
  stacks: StackSummaryView[];
  /** False until the first read answered; null when the daemon has no stacks API. */
  loaded: boolean | null;
  error: string;
}

let data: StackData = { stacks: [], loaded: false, error: '' };
const subs = new Set<() => void>();
const put = (p: Partial<StackData>): void => { data = { ...data, ...p }; subs.forEach((f) => f()); };

export async function reloadStacks(): Promise<void> {
  try {
    put({ stacks: await api<StackSummaryView[]>('GET', '/v1/stacks'), loaded: true, error: '' });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) put({ loaded: null });
    else put({ error: err instanceof Error ? err.message : String(err), loaded: true });
  }
}

/** How many stack operations have ended (a change to re-read on). */
const endedStackOps = (ops: ReadonlyMap<string, { kind: string; status: string }>): number =>
  [...ops.values()].filter((o) => o.kind.startsWith('stack.') && o.status !== 'running').length;

export function useStacks(): StackData {
  const live = useStore((s) => s.live);
  const ended = useStore((s) => endedStackOps(s.ops));
  const may = useCan('vm:read');
  useEffect(() => {
    if (live === 'live' && may) void reloadStacks();
  }, [live, may, ended]);
  return useSyncExternalStore((f) => { subs.add(f); return () => subs.delete(f); }, () => data);
}
