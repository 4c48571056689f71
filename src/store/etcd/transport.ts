/**
 * HTTP transport to etcd's v3 JSON gateway (node:http/https, no gRPC): one
 * POST per call, failing over between endpoints when a member refuses the
 * connection, every call bounded by a timeout and the caller's AbortSignal.
 * Anything that means "no answer from a quorum" becomes STORE_UNAVAILABLE.
 */
import http from 'node:http';
import https from 'node:https';
import { PolyvisorError, abortError, timeoutSignal } from '../../shared/index.js';

export interface EtcdTls {
  /** PEM of the CA that signed the members' certificates. */
  ca?: string | Buffer;
  /** PEM client certificate and key, when the members require client auth. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface EtcdConnection {
  /** Client URLs of the members, e.g. http://127.0.0.1:2379 (https:// with tls). */
  endpoints: string[];
  tls?: EtcdTls;
  /** Every call fails with STORE_UNAVAILABLE after this long (default 5000 ms). */
  timeoutMs?: number;
}

export const DEFAULT_ETCD_TIMEOUT_MS = 5000;

/** gRPC status codes etcd returns when it cannot reach a quorum (Unavailable, DeadlineExceeded). */
const UNAVAILABLE_GRPC = new Set([4, 14]);
const UNAVAILABLE_TEXT = /no leader|request timed out|leader changed|timed out|too many requests|not capable|unhealthy/i;
/** Connection errors that prove the request never reached a member (safe to try the next one). */
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EADDRNOTAVAIL']);

class NotSent extends Error {}

interface GatewayError { error?: string; message?: string; code?: number }

export class EtcdTransport {
  readonly timeoutMs: number;
  private readonly urls: URL[];
  /**
   * The member tried first (then the next that answers, kept). Chosen at random per client, as etcd's own client
   * balances, so a thousand hosts naming the same endpoints do not all load the first member.
   */
  private preferred: number;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly httpsAgent: https.Agent;
  /**
   * Streams (watches) hold their connection for as long as they run: they get their own sockets, uncapped, so open
   * watches never queue a call (a lease renewal) behind them. bench/cluster-scale.ts saw a thousand HA executors'
   * watches fill the 64 shared sockets and the renewals starve.
   */
  private readonly streamHttpAgent = new http.Agent({ keepAlive: false });
  private readonly streamHttpsAgent: https.Agent;
  private closed = false;

  constructor(conn: EtcdConnection) {
    if (conn.endpoints.length === 0) throw new PolyvisorError('CONFIG_INVALID', 'store.endpoints is empty: name at least one etcd client URL');
    this.urls = conn.endpoints.map((e) => {
      let u: URL;
      try {
        u = new URL(e);
      } catch (err) {
        throw new PolyvisorError('CONFIG_INVALID', `store.endpoints: ${JSON.stringify(e)} is not a URL (e.g. http://127.0.0.1:2379)`, { cause: err });
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new PolyvisorError('CONFIG_INVALID', `store.endpoints: ${e} must be http:// or https://`);
      return u;
    });
    this.timeoutMs = conn.timeoutMs ?? DEFAULT_ETCD_TIMEOUT_MS;
    this.preferred = Math.floor(Math.random() * this.urls.length);
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64, ...conn.tls });
    this.streamHttpsAgent = new https.Agent({ keepAlive: false, ...conn.tls });
  }

  get endpoints(): string[] {
    return this.urls.map((u) => u.origin);
  }

  /** POSTs `body` to `path` and returns the parsed JSON answer. */
  async call<T>(path: string, body: unknown, what: string, signal?: AbortSignal): Promise<T> {
    const sig = timeoutSignal(this.timeoutMs, signal);
    const payload = JSON.stringify(body);
    const refused: string[] = [];
    for (let n = 0; n < this.urls.length; n++) {
      const i = (this.preferred + n) % this.urls.length;
      const url = this.urls[i]!;
      try {
        const text = await this.post(url, path, payload, sig);
        this.preferred = i;
        return this.parse<T>(text.status, text.body, what);
      } catch (err) {
        if (err instanceof NotSent) {
          refused.push(`${url.origin} (${err.message})`);
          continue;
        }
        throw this.failure(err, sig, what);
      }
    }
    throw new PolyvisorError('STORE_UNAVAILABLE', `${what}: no etcd member answers (${refused.join(', ')})`);
  }

  /**
   * POSTs `body` to a streaming `path` and calls `onMessage` for every JSON
   * message; resolves when the stream ends, rejects when it fails.
   */
  async stream(path: string, body: unknown, what: string, signal: AbortSignal, onMessage: (m: unknown) => void): Promise<void> {
    const payload = JSON.stringify(body);
    let lastErr: unknown;
    for (let n = 0; n < this.urls.length; n++) {
      const i = (this.preferred + n) % this.urls.length;
      try {
        await this.postStreaming(this.urls[i]!, path, payload, signal, onMessage);
        return;
      } catch (err) {
        lastErr = err;
        if (err instanceof NotSent) continue;
        throw this.failure(err, signal, what);
      }
    }
    throw new PolyvisorError('STORE_UNAVAILABLE', `${what}: no etcd member answers`, { cause: lastErr });
  }

  close(): void {
    this.closed = true;
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.streamHttpAgent.destroy();
    this.streamHttpsAgent.destroy();
  }

  private request(url: URL, path: string, payload: string, signal: AbortSignal, streaming = false): http.ClientRequest {
    if (this.closed) throw new Error('etcd: the store is closed');
    const tls = url.protocol === 'https:';
    const mod = tls ? https : http;
    return mod.request({
      protocol: url.protocol, hostname: url.hostname, port: url.port, path, method: 'POST', signal,
      agent: streaming ? (tls ? this.streamHttpsAgent : this.streamHttpAgent) : tls ? this.httpsAgent : this.httpAgent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    });
  }

  private post(url: URL, path: string, payload: string, signal: AbortSignal): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = this.request(url, path, payload, signal);
      req.on('error', (err: NodeJS.ErrnoException) => reject(NOT_SENT.has(err.code ?? '') ? new NotSent(err.code, { cause: err }) : err));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.end(payload);
    });
  }

  private postStreaming(url: URL, path: string, payload: string, signal: AbortSignal, onMessage: (m: unknown) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = this.request(url, path, payload, signal, true);
      req.on('error', (err: NodeJS.ErrnoException) => reject(NOT_SENT.has(err.code ?? '') ? new NotSent(err.code, { cause: err }) : err));
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString('utf8')));
          res.on('end', () => reject(this.gatewayError(res.statusCode ?? 0, text, 'stream')));
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          try {
            for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (line) onMessage(JSON.parse(line));
            }
          } catch (err) {
            req.destroy();
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('etcd closed the stream')));
        res.on('end', () => resolve());
      });
      req.end(payload);
    });
  }

  private parse<T>(status: number, body: string, what: string): T {
    if (status === 200) return JSON.parse(body) as T;
    throw this.gatewayError(status, body, what);
  }

  private gatewayError(status: number, body: string, what: string): Error {
    let e: GatewayError = {};
    try {
      e = JSON.parse(body) as GatewayError;
    } catch {
      /* not JSON: keep the text */
    }
    const text = e.message ?? e.error ?? body.slice(0, 200);
    if (UNAVAILABLE_GRPC.has(e.code ?? -1) || UNAVAILABLE_TEXT.test(text) || status === 503) {
      return new PolyvisorError('STORE_UNAVAILABLE', `${what}: etcd answered "${text}"`);
    }
    return new EtcdGatewayError(`${what}: etcd answered HTTP ${status}: ${text}`, e.code ?? 0);
  }

  private failure(err: unknown, signal: AbortSignal, what: string): unknown {
    if (err instanceof PolyvisorError || err instanceof EtcdGatewayError) return err;
    if (signal.aborted) {
      const e = abortError(signal, what);
      if (e.code === 'TIMEOUT') return new PolyvisorError('STORE_UNAVAILABLE', `${what}: etcd did not answer within ${this.timeoutMs} ms`, { cause: err });
      return e;
    }
    return new PolyvisorError('STORE_UNAVAILABLE', `${what}: the connection to etcd failed`, { cause: err });
  }
}

/** An answer etcd gave that is not about availability (a bug on our side, or e.g. lease not found). */
export class EtcdGatewayError extends Error {
  constructor(message: string, readonly grpcCode: number) {
    super(message);
  }
}
