/**
 * HTTP over the daemon's unix socket or TCP; errors come back as catalogue errors.
 * Every request opens its own connection through `createConnection` and no http.Agent: a CLI call
 * makes one request, and Node's Agent costs ~4 ms of CPU per process start (it works out a TLS
 * server name for every request, unix sockets too, compiling net.isIP's IPv6 pattern). The request
 * then says `Connection: close`.
 */
import http from 'node:http';
import net from 'node:net';
import { PolyvisorError, isErrorCode, type ErrorCode } from '../shared/index.js';
import { pinnedConnection } from './tls.js';

/** An https:// URL is only reached when the server's certificate has the pinned SHA-256 `fingerprint` (client/tls.ts). */
export type Endpoint = { socketPath: string } | { url: string; fingerprint?: string };

export interface RawResponse {
  status: number;
  contentType: string;
  body: string;
}

export function request(
  ep: Endpoint,
  method: string,
  path: string,
  body: unknown,
  opts: { timeoutMs?: number; token?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // A Buffer is sent as it is (a file upload); anything else as JSON.
    const raw = Buffer.isBuffer(body);
    const payload = body === undefined ? undefined : raw ? body : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = raw ? 'application/octet-stream' : 'application/json';
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
    const req = http.request({ ...requestTarget(ep, path), method, headers, timeout: opts.timeoutMs ?? 300_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new PolyvisorError('TIMEOUT', `${method} ${path} got no answer in time`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof PolyvisorError) return reject(err);
      const where = 'socketPath' in ep ? ep.socketPath : ep.url;
      if (['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EACCES', 'EPROTO'].includes(err.code ?? '')) {
        reject(new PolyvisorError('DAEMON_UNREACHABLE', `cannot reach polyvisord at ${where} (${err.code})`, { cause: err }));
      } else reject(err);
    });
    req.end(payload);
  });
}

export function urlTarget(base: string, path: string): { host: string; port: number; path: string } {
  const u = new URL(base);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new PolyvisorError('INVALID_ARGUMENT', `unsupported URL ${base}: use http://HOST:PORT or https://HOST:PORT`);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)), path: `${u.pathname.replace(/\/$/, '')}${path}` };
}

/**
 * Options for http.request: the unix socket, plain TCP, or TLS checked against the pinned
 * fingerprint; each with its own `createConnection`, so no http.Agent is involved (see the top).
 */
export function requestTarget(ep: Endpoint, path: string): http.RequestOptions {
  if ('socketPath' in ep) {
    const socketPath = ep.socketPath;
    return { socketPath, path, createConnection: () => net.createConnection({ path: socketPath }) };
  }
  const t = urlTarget(ep.url, path);
  if (!ep.url.startsWith('https:')) return { ...t, createConnection: () => net.createConnection({ host: t.host, port: t.port }) };
  return { ...t, createConnection: pinnedConnection(ep.fingerprint, ep.url) as unknown as http.RequestOptions['createConnection'] };
}

/** URL and `ws` options of a WebSocket route (ws+unix, ws, or wss with the pinned fingerprint). */
export function webSocketTarget(ep: Endpoint, path: string): { url: string; options: { createConnection?: unknown } } {
  if ('socketPath' in ep) return { url: `ws+unix://${ep.socketPath}:${path}`, options: {} };
  const url = `${ep.url.replace(/^http/, 'ws').replace(/\/$/, '')}${path}`;
  if (!ep.url.startsWith('https:')) return { url, options: {} };
  return { url, options: { createConnection: pinnedConnection(ep.fingerprint, ep.url) } };
}

/** Parses a JSON answer, turning an error body into the PolyvisorError it stands for. */
export function decode<T>(res: RawResponse): T {
  if (res.status === 204) return undefined as T;
  if (res.status < 400 && res.contentType.startsWith('text/')) return res.body as T;
  let json: unknown;
  try {
    json = res.body.length ? JSON.parse(res.body) : undefined;
  } catch {
    if (res.status < 400 && !res.contentType.includes('json')) return res.body as T;
    throw new PolyvisorError('INTERNAL', `the daemon sent a malformed answer (HTTP ${res.status})`);
  }
  if (res.status >= 400) {
    const b = (json ?? {}) as { code?: string; message?: string; hint?: string; details?: unknown };
    const code: ErrorCode = b.code && isErrorCode(b.code) ? b.code : 'INTERNAL';
    throw new PolyvisorError(code, b.message ?? `HTTP ${res.status}`, {
      ...(b.hint ? { hint: b.hint } : {}),
      ...(b.details !== undefined ? { details: b.details } : {}),
    });
  }
  return json as T;
}
