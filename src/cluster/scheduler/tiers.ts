/**
 * Pool priority tiers (like Proxmox HA group priorities): hosts in the VM's
 * first preferred pool before the second, before hosts in no listed pool;
 * within that, higher host priority first. Only the best tier that has a host
 * passing every filter is used. Pure.
 */
import type { CompiledRequest } from './compiled-request.js';
import type { LiveHost } from './live-host.js';

export type TierKey = readonly [poolRank: number, negPriority: number];

export function tierOf(c: CompiledRequest, h: Pick<LiveHost, 'pool' | 'priority'>): TierKey {
  return [c.poolRank(h.pool), -h.priority];
}

/** Negative when a is the better tier. */
export function compareTiers(a: TierKey, b: TierKey): number {
  return a[0] - b[0] || a[1] - b[1];
}

export function tierText(h: Pick<LiveHost, 'pool' | 'priority'>): string {
  return `pool ${JSON.stringify(h.pool)} priority ${h.priority}`;
}
