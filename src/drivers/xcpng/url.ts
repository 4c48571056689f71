/**
 * An endpoint URL for XCP-ng / XenServer: https://POOL-MASTER[:PORT]
 * (443 when not given, as xapi listens there), optionally ending in
 * /jsonrpc. XAPI serves JSON-RPC at /jsonrpc and its HTTP handlers
 * (export_raw_vdi) at the root of the same origin.
 */
import { fail } from '../../shared/index.js';

/** The origin (https://host:port) of a XAPI endpoint; INVALID_ARGUMENT naming what is wrong. */
export function xapiOrigin(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    fail('INVALID_ARGUMENT', `"${raw}" is not a URL; an XCP-ng endpoint looks like https://xcp-master.example.com`);
  }
  if (u.protocol !== 'https:') fail('INVALID_ARGUMENT', `the driver talks to XAPI over https only; give https://${u.host || 'POOL-MASTER'}`);
  if (u.username || u.password) fail('INVALID_ARGUMENT', 'put credentials in --user/--password-file, not in the URL');
  if (u.search || u.hash) fail('INVALID_ARGUMENT', 'an XCP-ng endpoint URL has no query or fragment: https://POOL-MASTER');
  const p = u.pathname.replace(/\/+$/, '');
  if (p !== '' && p !== '/jsonrpc') fail('INVALID_ARGUMENT', `unexpected path "${u.pathname}" in an XCP-ng endpoint URL: give https://POOL-MASTER`);
  return new URL(u.origin);
}
