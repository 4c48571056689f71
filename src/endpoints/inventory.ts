/**
 * One inventory across endpoints. Each foreign endpoint's rows are cached:
 * kept fresh by the hypervisor's events where its driver has them (libvirt
 * lifecycle events, vSphere's WaitForUpdatesEx), re-listed after `pollMs`
 * where not. An endpoint that does not answer keeps its last rows, marked
 * stale, and never holds up the others.
 */
import type { CapabilityMatrix, EndpointSession, ForeignChange, ForeignVm } from '../drivers/index.js';
import { isPolyvisorError, type Logger } from '../shared/index.js';
import type { InventoryVmView } from '../spec/index.js';
import { actionsFor } from './foreign-actions.js';

export interface CachedEndpoint {
  rows: ForeignVm[];
  at: number;
  /** Events keep the rows current; false: re-list after pollMs. */
  live: boolean;
  stopWatch: (() => void) | null;
}

export function rowOf(endpoint: string, driver: string, m: CapabilityMatrix, v: ForeignVm): InventoryVmView {
  return {
    endpoint, driver, ref: `${endpoint}/${v.name}`, name: v.name, id: v.id, state: v.state, cpus: v.cpus,
    memoryBytes: v.memoryBytes, host: v.host, actions: actionsFor(m, v.state),
  };
}

export class InventoryCache {
  private readonly cache = new Map<string, CachedEndpoint>();

  constructor(private readonly o: { pollMs: number; logger: Logger }) {}

  /** Cached rows when still good, else undefined. */
  fresh(endpoint: string): ForeignVm[] | undefined {
    const c = this.cache.get(endpoint);
    if (!c) return undefined;
    if (c.live || Date.now() - c.at < this.o.pollMs) return c.rows;
    return undefined;
  }

  /** The last rows, however old (for a stale answer). */
  last(endpoint: string): ForeignVm[] | undefined {
    return this.cache.get(endpoint)?.rows;
  }

  /** Stores a fresh listing and, the first time, starts watching the endpoint's events. */
  store(endpoint: string, rows: ForeignVm[], session: EndpointSession): void {
    const prev = this.cache.get(endpoint);
    const entry: CachedEndpoint = { rows, at: Date.now(), live: prev?.live ?? false, stopWatch: prev?.stopWatch ?? null };
    this.cache.set(endpoint, entry);
    if (!entry.stopWatch && session.events) {
      try {
        entry.live = true;
        entry.stopWatch = session.events.watch((c) => this.apply(endpoint, c), (err) => this.lost(endpoint, err));
      } catch (err) {
        this.lost(endpoint, err as Error);
      }
    }
  }

  /** A change pushed by the hypervisor. An unknown VM makes the next read re-list. */
  private apply(endpoint: string, c: ForeignChange): void {
    const e = this.cache.get(endpoint);
    if (!e) return;
    const i = e.rows.findIndex((r) => r.name === c.vm);
    if (c.gone) {
      if (i >= 0) e.rows = e.rows.filter((_, j) => j !== i);
      return;
    }
    if (i < 0 || !c.state) {
      e.at = 0;
      e.live = false;
      return;
    }
    e.rows = e.rows.map((r, j) => (j === i ? { ...r, state: c.state! } : r));
  }

  /** The event stream broke: fall back to polling until the next listing starts a new watch. */
  private lost(endpoint: string, err: Error): void {
    const e = this.cache.get(endpoint);
    if (!e) return;
    this.o.logger.warn({ endpoint, err: err.message }, 'event stream lost; polling');
    e.stopWatch?.();
    e.stopWatch = null;
    e.live = false;
    e.at = 0;
  }

  /** Marks rows out of date (after an action through Polyvisor, so the next read shows its result). */
  touch(endpoint: string): void {
    const e = this.cache.get(endpoint);
    if (e && !e.live) e.at = 0;
  }

  forget(endpoint: string): void {
    this.cache.get(endpoint)?.stopWatch?.();
    this.cache.delete(endpoint);
  }

  closeAll(): void {
    for (const k of [...this.cache.keys()]) this.forget(k);
  }
}

/** An error as the inventory reports it per endpoint. */
export function errorRow(endpoint: string, err: unknown): { endpoint: string; code: string; message: string } {
  if (isPolyvisorError(err)) return { endpoint, code: err.code, message: err.message };
  return { endpoint, code: 'ENDPOINT_PROTOCOL', message: err instanceof Error ? err.message : String(err) };
}
