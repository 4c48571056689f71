/**
 * HTTPS to one vCenter/ESXi: a keep-alive agent trusting the endpoint's CA
 * (certificate checks off only when the endpoint is marked insecure), every
 * request bounded by the caller's AbortSignal and the transport's ceiling, and
 * network failures mapped to the catalogue: refused/unresolvable before the
 * first answer → ENDPOINT_UNREACHABLE (ENDPOINT_LOST once the session was up),
 * certificate problems → ENDPOINT_TLS_UNTRUSTED, a socket closed mid-call →
 * ENDPOINT_LOST.
 */
import https from 'node:https';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { PolyvisorError, abortError, anySignal } from '../../shared/index.js';

export interface TransportOptions {
  /** https://host[:port] (the path is the request's). */
  origin: URL;
  ca?: string;
  insecure?: boolean;
  /** Upper bound of any one request, whatever the caller's signal (ms). */
  ceilingMs?: number;
  /** Endpoint name for messages. */
  label: string;
}

export interface RequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'HEAD';
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  signal: AbortSignal;
  /** What the call is, for messages ("Login", "download of [ds] vm/disk.vmdk"). */
  what: string;
  /** A long stream (a disk download) is bounded by the caller's signal only, not the transport's ceiling. */
  noCeiling?: boolean;
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'EE_KEY_TOO_SMALL', 'CA_KEY_TOO_SMALL',
]);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

export class Transport {
  private readonly agent: https.Agent | http.Agent;
  /** Set once the endpoint answered a call: later refusals mean it went away. */
  answered = false;

  constructor(readonly opts: TransportOptions) {
    const secure = opts.origin.protocol === 'https:';
    this.agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: 8, ca: opts.ca, rejectUnauthorized: !opts.insecure })
      : new http.Agent({ keepAlive: true, maxSockets: 8 });
  }

  /** Sends a request; resolves with the response once its headers arrived (the body is the caller's to read). */
  request(r: RequestOptions): Promise<IncomingMessage> {
    const signal = r.noCeiling ? r.signal : anySignal([r.signal, AbortSignal.timeout(this.opts.ceilingMs ?? 10 * 60_000)]);
    if (signal.aborted) return Promise.reject(abortError(signal, r.what));
    const mod = this.opts.origin.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request({
        protocol: this.opts.origin.protocol,
        hostname: this.opts.origin.hostname,
        port: this.opts.origin.port || undefined,
        method: r.method,
        path: r.path,
        headers: { ...r.headers, ...(r.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(r.body)) } : {}) },
        agent: this.agent,
        signal,
      });
      req.on('response', (res) => {
        this.answered = true;
        resolve(res);
      });
      req.on('error', (err) => reject(signal.aborted ? abortError(signal, r.what) : this.mapError(err, r.what)));
      if (r.body !== undefined) req.end(r.body);
      else req.end();
    });
  }

  /** Reads a whole response body (text), mapping a cut-off stream to ENDPOINT_LOST. */
  async readAll(res: IncomingMessage, what: string, signal: AbortSignal): Promise<string> {
    const chunks: Buffer[] = [];
    try {
      for await (const c of res) chunks.push(c as Buffer);
    } catch (err) {
      if (signal.aborted) throw abortError(signal, what);
      throw err instanceof PolyvisorError ? err : this.lost(what, err);
    }
    if (!res.complete) throw this.lost(what, new Error('response ended early'));
    return Buffer.concat(chunks).toString('utf8');
  }

  /**
   * A response body as a stream whose failures are catalogue errors: the
   * connection closing before the end is ENDPOINT_LOST, the caller's signal
   * TIMEOUT/ABORTED. Destroying the stream ends the download.
   */
  body(res: IncomingMessage, what: string, signal: AbortSignal): Readable {
    const out = new PassThrough();
    const fail = (err: unknown): void => {
      if (out.destroyed) return;
      out.destroy(signal.aborted ? abortError(signal, what) : err instanceof PolyvisorError ? err : this.lost(what, err));
    };
    res.on('error', fail);
    res.on('close', () => {
      if (!res.complete) fail(new Error('the connection closed before the end'));
    });
    out.on('close', () => {
      if (!res.complete) res.destroy();
    });
    res.pipe(out);
    return out;
  }

  mapError(err: unknown, what: string): PolyvisorError {
    if (err instanceof PolyvisorError) return err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const where = `${this.opts.label} (${this.opts.origin.host})`;
    if (TLS_CODES.has(code) || /certificate|self.signed/i.test(String((err as Error).message))) {
      return new PolyvisorError('ENDPOINT_TLS_UNTRUSTED', `${where} presented a certificate that is not trusted (${code || 'TLS'}) during ${what}`, { cause: err });
    }
    if (UNREACHABLE_CODES.has(code)) {
      if (this.answered) return this.lost(what, err);
      return new PolyvisorError('ENDPOINT_UNREACHABLE', `${where} cannot be reached (${code}) for ${what}`, { cause: err });
    }
    return this.lost(what, err);
  }

  lost(what: string, cause: unknown): PolyvisorError {
    const code = (cause as NodeJS.ErrnoException)?.code;
    return new PolyvisorError('ENDPOINT_LOST', `${this.opts.label} (${this.opts.origin.host}) went away during ${what}${code ? ` (${code})` : ''}`, { cause });
  }

  close(): void {
    this.agent.destroy();
  }
}
