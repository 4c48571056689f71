/**
 * What the endpoints feature reads, shared by its tree section and its page:
 * the endpoints (GET /v1/endpoints), the drivers with their capability
 * matrices (GET /v1/drivers) and the VMs of every endpoint (GET
 * /v1/inventory). Read once per connection of the event stream and again
 * after the page changes something; a daemon without the routes (404) has no
 * endpoints, which hides the tree section.
 */
import { useEffect, useSyncExternalStore } from 'react';
import { api, ApiError } from '../../api/client.js';
import { useCan, useStore } from '../../api/store.js';
import type { DriverView, EndpointView, InventoryView } from '../../api/types.js';

export interface EndpointData {
  endpoints: EndpointView[];
  drivers: DriverView[];
  inventory: InventoryView;
  /** False until the first read answered; null when the daemon has no endpoints routes. */
  loaded: boolean | null;
  error: string;
}

let data: EndpointData = { endpoints: [], drivers: [], inventory: { vms: [], errors: [], stale: [] }, loaded: false, error: '' };
const subs = new Set<() => void>();
const put = (p: Partial<EndpointData>): void => { data = { ...data, ...p }; subs.forEach((f) => f()); };

/**
 * Reads the endpoints and drivers, and the inventory (fresh from every endpoint with `fresh`) when there are
 * endpoints or `all` asks (the page, which lists this daemon's VMs too): the tree of a daemon without endpoints
 * costs two small reads, not a listing of every VM.
 */
export async function reloadEndpoints(o: { fresh?: boolean; all?: boolean } = {}): Promise<void> {
  try {
    const [endpoints, drivers] = await Promise.all([
      api<EndpointView[]>('GET', '/v1/endpoints'),
      api<DriverView[]>('GET', '/v1/drivers').catch(() => [] as DriverView[]),
    ]);
    const inventory = endpoints.length > 0 || o.all ? await api<InventoryView>('GET', `/v1/inventory${o.fresh ? '?fresh=true' : ''}`) : { vms: [], errors: [], stale: [] };
    put({ endpoints, drivers, inventory, loaded: true, error: '' });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) put({ loaded: null });
    else put({ error: err instanceof Error ? err.message : String(err), loaded: true });
  }
}

/** `all`: the page's use (the inventory with this daemon's VMs too). */
export function useEndpointData(all = false): EndpointData {
  const live = useStore((s) => s.live);
  const may = useCan('vm:read');
  useEffect(() => {
    if (live === 'live' && may) void reloadEndpoints({ all });
  }, [live, may, all]);
  return useSyncExternalStore((f) => { subs.add(f); return () => subs.delete(f); }, () => data);
}

/** The power actions of the API (POST /v1/endpoints/E/vms/V/ACTION) and the capability each needs. */
export const FOREIGN_ACTIONS: ReadonlyArray<{ action: string; capability: string; risky?: boolean }> = [
  { action: 'start', capability: 'power.start' },
  { action: 'stop', capability: 'power.stop', risky: true },
  { action: 'reboot', capability: 'power.reboot', risky: true },
  { action: 'pause', capability: 'power.pause' },
  { action: 'resume', capability: 'power.pause' },
  { action: 'suspend', capability: 'power.suspend' },
  { action: 'kill', capability: 'power.kill', risky: true },
];
