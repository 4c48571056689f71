/**
 * An endpoint URL for Proxmox VE: https://HOST[:PORT] (port 8006 when not
 * given, as pveproxy listens there), optionally ending in /api2/json.
 */
import { fail } from '../../shared/index.js';

export const PVE_DEFAULT_PORT = 8006;

/** The API base (https://host:port/api2/json); INVALID_ARGUMENT naming what is wrong. */
export function apiBase(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    fail('INVALID_ARGUMENT', `"${raw}" is not a URL; a Proxmox VE endpoint looks like https://pve.example.com:8006`);
  }
  if (u.protocol !== 'https:') fail('INVALID_ARGUMENT', `Proxmox VE serves its API over https only; give https://${u.host || 'HOST'}:${PVE_DEFAULT_PORT}`);
  if (u.username || u.password) fail('INVALID_ARGUMENT', 'put credentials in --user/--password-file or --token-file, not in the URL');
  if (u.search || u.hash) fail('INVALID_ARGUMENT', 'a Proxmox VE endpoint URL has no query or fragment: https://HOST:8006');
  const p = u.pathname.replace(/\/+$/, '');
  if (p !== '' && p !== '/api2/json') fail('INVALID_ARGUMENT', `unexpected path "${u.pathname}" in a Proxmox VE endpoint URL: give https://HOST:8006`);
  // URL drops an explicit :443 (https's default); only a URL without any port gets pveproxy's 8006.
  const explicit443 = /^https:\/\/(\[[^\]]+\]|[^/:]+):443(\/|$)/i.test(raw.trim());
  const port = u.port || (explicit443 ? '443' : String(PVE_DEFAULT_PORT));
  return new URL(`https://${u.hostname.includes(':') && !u.hostname.startsWith('[') ? `[${u.hostname}]` : u.hostname}:${port}/api2/json`);
}
