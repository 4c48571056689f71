/** The host's IPv4 routes, read from `ip -j route` (JSON), for subnet collision checks. Pure. */
import { parseCidr, type Cidr } from './ipv4.js';

export interface HostRoute {
  /** The destination as written by ip (10.0.0.0/24, 10.1.2.3 for a host route). */
  dst: string;
  cidr: Cidr;
  dev: string | null;
}

interface IpRouteJson {
  dst?: unknown;
  dev?: unknown;
  type?: unknown;
}

/**
 * Parses `ip -j route` (or `ip -j -4 route show table all`) output. The
 * default route, non-IPv4 destinations and broadcast/local entries of other
 * tables are skipped: they say nothing about which private subnet is free.
 */
export function parseHostRoutes(json: string): HostRoute[] {
  const text = json.trim();
  if (text === '') return [];
  const rows = JSON.parse(text) as unknown;
  if (!Array.isArray(rows)) throw new Error('ip -j route did not print a JSON array');
  const out: HostRoute[] = [];
  for (const row of rows as IpRouteJson[]) {
    if (typeof row.dst !== 'string' || row.dst === 'default') continue;
    if (typeof row.type === 'string' && row.type !== 'unicast') continue;
    const cidr = parseCidr(row.dst, false);
    if (!cidr || cidr.prefix === 0) continue;
    out.push({ dst: row.dst, cidr, dev: typeof row.dev === 'string' ? row.dev : null });
  }
  return out;
}
