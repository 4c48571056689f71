/**
 * An endpoint URL for a Hyper-V host: WinRM's HTTPS listener,
 * https://HOST[:5986][/wsman]. Query parameters say what one WS-Management
 * connection cannot: `peer=HOST[:PORT]` (repeatable) names the other hosts a
 * VM may live-migrate to (each reached with the same credentials, as hosts of
 * one domain are), `exportDir` is the folder (a share) the Hyper-V host
 * writes exports to, and `exportLocal` the same folder as this host sees it
 * (default: exportDir).
 */
import { fail } from '../../shared/index.js';

export const WINRM_HTTPS_PORT = 5986;

export interface HypervUrl {
  /** https://host:port/wsman of the host addressed. */
  wsman: URL;
  peers: URL[];
  exportDir: string | null;
  exportLocal: string | null;
}

const EXAMPLE = 'https://hv1.example.com:5986/wsman';

function wsmanUrl(raw: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(raw.includes('://') ? raw : `https://${raw}`);
  } catch {
    fail('INVALID_ARGUMENT', `${what} "${raw}" is not a URL; a Hyper-V endpoint looks like ${EXAMPLE}`);
  }
  if (u.protocol !== 'https:') fail('INVALID_ARGUMENT', `${what}: the driver speaks WinRM over HTTPS only (basic authentication is sent only over TLS): give https://${u.host || 'HOST'}:${WINRM_HTTPS_PORT}/wsman`);
  if (u.username || u.password) fail('INVALID_ARGUMENT', 'put credentials in --user/--password-file, not in the URL');
  const p = u.pathname.replace(/\/+$/, '');
  if (p !== '' && p !== '/wsman') fail('INVALID_ARGUMENT', `unexpected path "${u.pathname}" in ${what}: WinRM listens on /wsman (${EXAMPLE})`);
  const explicit443 = /^https:\/\/(\[[^\]]+\]|[^/:]+):443(\/|$)/i.test(raw.trim());
  return new URL(`https://${u.host.replace(/:\d+$/, '')}:${u.port || (explicit443 ? '443' : String(WINRM_HTTPS_PORT))}/wsman`);
}

export function parseHypervUrl(raw: string): HypervUrl {
  const wsman = wsmanUrl(raw.split('?')[0]!.split('#')[0]!, 'the endpoint URL');
  const u = new URL(raw.includes('://') ? raw : `https://${raw}`);
  if (u.hash) fail('INVALID_ARGUMENT', 'a Hyper-V endpoint URL has no fragment');
  for (const k of u.searchParams.keys()) {
    if (!['peer', 'exportDir', 'exportLocal'].includes(k)) fail('INVALID_ARGUMENT', `unknown parameter "${k}" in a Hyper-V endpoint URL (known: peer, exportDir, exportLocal)`);
  }
  const peers = u.searchParams.getAll('peer').map((p) => wsmanUrl(p, 'the peer'));
  const exportDir = u.searchParams.get('exportDir');
  const exportLocal = u.searchParams.get('exportLocal') ?? exportDir;
  if (exportLocal !== null && !exportLocal.startsWith('/')) fail('INVALID_ARGUMENT', `exportLocal "${exportLocal}" must be an absolute path on this host (where the export share is mounted)`);
  return { wsman, peers, exportDir, exportLocal };
}
