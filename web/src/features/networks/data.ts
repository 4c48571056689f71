/**
 * The virtual networks (GET /v1/networks), shared by the tree section and the
 * page: read once per connection of the event stream and again after the page
 * changes something. A daemon without the routes (404) or without network
 * support has none, which hides the tree section.
 */
import { useEffect, useSyncExternalStore } from 'react';
import { api, ApiError } from '../../api/client.js';
import { useCan, useStore } from '../../api/store.js';
import type { NetworkView } from '../../api/types.js';

export interface NetworkData {
  networks: NetworkView[];
  /** False until the first read answered; null when the daemon has no networks API. */
  loaded: boolean | null;
  error: string;
}

let data: NetworkData = { networks: [], loaded: false, error: '' };
const subs = new Set<() => void>();
const put = (p: Partial<NetworkData>): void => { data = { ...data, ...p }; subs.forEach((f) => f()); };

export async function reloadNetworks(): Promise<void> {
  try {
    put({ networks: await api<NetworkView[]>('GET', '/v1/networks'), loaded: true, error: '' });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) put({ loaded: null });
    else put({ error: err instanceof Error ? err.message : String(err), loaded: true });
  }
}

export function useNetworks(): NetworkData {
  const live = useStore((s) => s.live);
  const may = useCan('network:read');
  useEffect(() => {
    if (live === 'live' && may) void reloadNetworks();
  }, [live, may]);
  return useSyncExternalStore((f) => { subs.add(f); return () => subs.delete(f); }, () => data);
}
