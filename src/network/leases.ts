/** dnsmasq's lease file: "EXPIRY MAC IP HOSTNAME CLIENT-ID" per line (EXPIRY 0: infinite; HOSTNAME "*": none). Pure. */
import type { Lease } from './types.js';

export function parseLeases(text: string): Lease[] {
  const out: Lease[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[0] === 'duid' || !/^\d+$/.test(f[0]!)) continue;
    const [expiry, mac, ip, host] = f as [string, string, string, string];
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac) || ip.includes(':')) continue;
    const secs = Number(expiry);
    out.push({
      mac: mac.toLowerCase(),
      ip,
      hostname: host === '*' ? null : host,
      expiresAt: secs === 0 ? null : new Date(secs * 1000).toISOString(),
    });
  }
  return out;
}
