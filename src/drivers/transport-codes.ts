/**
 * How a failure below HTTP reads for an endpoint driver: a certificate not
 * trusted, a host not reachable (before anything was asked of it), or a host
 * gone away mid-call. One table for the drivers that speak HTTPS themselves.
 */
export const TLS_ERROR_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_REJECTED', 'INVALID_CA',
]);

export const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

export type TransportFailure = 'tls' | 'unreachable' | 'lost';

/** What kind of failure `err` is; `accepted`: the endpoint had already taken the operation, so even a refused connection means it went away. */
export function transportFailure(err: unknown, accepted: boolean): TransportFailure {
  const e = err as NodeJS.ErrnoException | undefined;
  const code = e?.code ?? '';
  if (TLS_ERROR_CODES.has(code) || /certificate|self[- ]signed/i.test(e?.message ?? '')) return 'tls';
  if (UNREACHABLE_CODES.has(code) && !accepted) return 'unreachable';
  return 'lost';
}
