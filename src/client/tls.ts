/**
 * Certificate pinning, as Incus does it: the daemon's certificate is
 * self-signed, so instead of a CA chain the client compares the SHA-256
 * fingerprint of the certificate the server presents with the one pinned when
 * the remote was added. The TLS socket is handed to the HTTP request (or
 * WebSocket) only after the comparison succeeded, so nothing — no token — is
 * ever written to a server whose certificate does not match.
 */
import net from 'node:net';
import tls from 'node:tls';
import { PolyvisorError } from '../shared/index.js';

/** "AB:CD:…" or "abcd…" → "abcd…" (64 lowercase hex digits). */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new PolyvisorError('INVALID_ARGUMENT', `${JSON.stringify(fp)} is not a SHA-256 fingerprint (64 hex digits)`);
  return hex;
}

/** "abcd…" → "AB:CD:…", easier to compare by eye. */
export const formatFingerprint = (hex: string): string => hex.toUpperCase().match(/../g)?.join(':') ?? hex;

type ConnectCallback = (err: Error | null, socket?: net.Socket) => void;
interface ConnectTarget { host?: string | null; hostname?: string | null; port?: number | string | null }

function openTls(o: ConnectTarget, timeoutMs: number): tls.TLSSocket {
  const host = String(o.hostname ?? o.host ?? 'localhost').replace(/^\[|\]$/g, '');
  const socket = tls.connect({
    host,
    port: Number(o.port ?? 443),
    ...(net.isIP(host) ? {} : { servername: host }),
    // The chain is not checked (the certificate is self-signed); the fingerprint is, below.
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  });
  socket.setTimeout(timeoutMs, () => socket.destroy(new PolyvisorError('TIMEOUT', `TLS handshake with ${host} took longer than ${timeoutMs} ms`)));
  return socket;
}

const peerFingerprint = (s: tls.TLSSocket): string => normalizeFingerprint(s.getPeerCertificate().fingerprint256 ?? '');

/**
 * A `createConnection` for http.request and ws that opens TLS, checks the
 * server's certificate against `expected`, and only then gives the socket to
 * the caller. Without a pin every connection is refused (CERTIFICATE_UNTRUSTED).
 */
export function pinnedConnection(expected: string | undefined, where: string, timeoutMs = 30_000) {
  const pin = expected === undefined ? undefined : normalizeFingerprint(expected);
  return (opts: ConnectTarget, cb: ConnectCallback): undefined => {
    const socket = openTls(opts, timeoutMs);
    const onError = (err: Error): void => cb(err);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.setTimeout(0);
      const got = peerFingerprint(socket);
      let err: PolyvisorError | undefined;
      if (pin === undefined) {
        err = new PolyvisorError('CERTIFICATE_UNTRUSTED', `${where} serves TLS with a certificate that is not pinned (fingerprint ${got})`);
      } else if (got !== pin) {
        err = new PolyvisorError('CERTIFICATE_MISMATCH', `${where} presented a certificate with fingerprint ${got}, not the pinned ${pin}`);
      }
      if (err) {
        socket.removeListener('error', onError);
        socket.on('error', () => undefined);
        socket.destroy();
        return cb(err);
      }
      socket.removeListener('error', onError);
      cb(null, socket);
    });
    return undefined;
  };
}

export interface PeerCertificate {
  fingerprint: string;
  subject: string;
  validTo: string;
}

/** Connects to an https:// URL and returns its certificate without trusting or pinning it. */
export function fetchCertificate(url: string, timeoutMs = 15_000): Promise<PeerCertificate> {
  const u = new URL(url);
  if (u.protocol !== 'https:') throw new PolyvisorError('INVALID_ARGUMENT', `${url} does not use https://`);
  return new Promise((resolve, reject) => {
    const socket = openTls({ hostname: u.hostname, port: u.port || 443 }, timeoutMs);
    socket.once('error', (err: NodeJS.ErrnoException) => {
      reject(err instanceof PolyvisorError ? err : new PolyvisorError('DAEMON_UNREACHABLE', `cannot reach polyvisord at ${url} (${err.code ?? err.message})`, { cause: err }));
    });
    socket.once('secureConnect', () => {
      const c = socket.getPeerCertificate();
      resolve({ fingerprint: peerFingerprint(socket), subject: String(c.subject?.CN ?? ''), validTo: c.valid_to });
      socket.end();
    });
  });
}
