/** IPv4 addresses and CIDR blocks as 32-bit unsigned numbers. Pure. */

export interface Cidr {
  /** The network address (host bits zero). */
  network: number;
  prefix: number;
  /** The last address of the block. */
  broadcast: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** 10.0.0.1 → number, or null when it is not a dotted-quad IPv4 address. */
export function parseIp(s: string): number | null {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return null;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function blockOf(network: number, prefix: number): Cidr {
  const size = 2 ** (32 - prefix);
  const base = Math.floor(network / size) * size;
  return { network: base, prefix, broadcast: base + size - 1 };
}

/**
 * "10.0.0.0/24" → Cidr; a bare address is a /32. `strict` (the default)
 * refuses host bits (10.0.0.1/24) and returns null, like any other bad text.
 */
export function parseCidr(s: string, strict = true): Cidr | null {
  const m = /^([0-9.]+)(?:\/(\d{1,2}))?$/.exec(s);
  if (!m) return null;
  const ip = parseIp(m[1]!);
  const prefix = m[2] === undefined ? 32 : Number(m[2]);
  if (ip === null || prefix > 32) return null;
  const block = blockOf(ip, prefix);
  if (strict && block.network !== ip) return null;
  return block;
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.network)}/${c.prefix}`;
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ip >= c.network && ip <= c.broadcast;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.network <= b.broadcast && b.network <= a.broadcast;
}

/** A usable host address: inside, and neither the network nor the broadcast address (for prefixes up to /30). */
export function isHostAddress(c: Cidr, ip: number): boolean {
  if (!cidrContains(c, ip)) return false;
  return c.prefix >= 31 || (ip !== c.network && ip !== c.broadcast);
}

export const MAC_PATTERN = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
