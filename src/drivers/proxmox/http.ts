/**
 * HTTPS to one Proxmox VE endpoint: a keep-alive agent that trusts exactly the
 * endpoint's CA (or nothing, when insecure), a timeout and the caller's
 * AbortSignal on every request, form-encoded parameters as pveproxy takes
 * them, and answers unwrapped from {"data": ...}. Failures come back as
 * catalogue errors (errors.ts).
 */
import { collectBody } from '../http-body.js';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { abortError, PolyvisorError } from '../../shared/index.js';
import { answerError, transportError } from './errors.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type Params = Record<string, string | number | boolean | undefined>;

export interface HttpOptions {
  endpoint: string;
  base: URL;
  ca?: string;
  insecure?: boolean;
  /** No answer within this long: ENDPOINT_LOST. */
  requestTimeoutMs: number;
}

export interface RequestOptions {
  headers: Record<string, string>;
  /** The operation was already accepted (a task is being followed): a refused connection is ENDPOINT_LOST. */
  accepted?: boolean;
}

const MAX_BODY = 32 * 1024 * 1024;

function encode(params: Params): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    q.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  return q.toString();
}

export class PveHttp {
  private readonly agent: https.Agent;

  constructor(private readonly o: HttpOptions) {
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 8,
      ...(o.ca ? { ca: [o.ca] } : {}),
      rejectUnauthorized: !o.insecure,
    });
  }

  get url(): string {
    return this.o.base.origin;
  }

  /** `data` of the answer to METHOD /api2/json`path`. */
  async call(method: Method, path: string, params: Params, signal: AbortSignal, ro: RequestOptions): Promise<unknown> {
    try {
      return await this.once(method, path, params, signal, ro);
    } catch (err) {
      // A keep-alive socket the server had closed: Node's documented case for one retry, safe for reads only.
      if (method === 'GET' && (err as { reusedSocket?: boolean }).reusedSocket && !signal.aborted) return this.once(method, path, params, signal, ro);
      throw err;
    }
  }

  private once(method: Method, path: string, params: Params, signal: AbortSignal, ro: RequestOptions): Promise<unknown> {
    const query = encode(params);
    const inQuery = method === 'GET' || method === 'DELETE';
    const target = `${this.o.base.pathname}${path}${inQuery && query ? `?${query}` : ''}`;
    const body = inQuery ? '' : query;
    const where = { endpoint: this.o.endpoint, method, path };
    if (signal.aborted) return Promise.reject(abortError(signal, `${method} ${path} on ${this.o.endpoint}`));
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (fn: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      const req = https.request({
        agent: this.agent, host: this.o.base.hostname.replace(/^\[|\]$/g, ''), port: this.o.base.port, method, path: target,
        headers: {
          Accept: 'application/json',
          ...ro.headers,
          ...(inQuery ? {} : { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) }),
        },
      });
      const fail = (err: unknown): void =>
        finish(() => reject(Object.assign(transportError(this.o.endpoint, this.url, err, ro.accepted ?? false), { reusedSocket: req.reusedSocket })));
      const timer = setTimeout(() => {
        req.destroy();
        finish(() => reject(new PolyvisorError('ENDPOINT_LOST', `Proxmox endpoint ${this.o.endpoint} (${this.url}) did not answer ${method} ${path} within ${this.o.requestTimeoutMs} ms`)));
      }, this.o.requestTimeoutMs);
      const onAbort = (): void => {
        req.destroy();
        finish(() => reject(abortError(signal, `${method} ${path} on ${this.o.endpoint}`)));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.on('response', (res: IncomingMessage) => {
        collectBody(req, res, MAX_BODY, fail, (text) => {
          let parsed: unknown = null;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            if (res.statusCode === 200) {
              return finish(() => reject(new PolyvisorError('ENDPOINT_PROTOCOL', `Proxmox endpoint ${this.o.endpoint} answered ${method} ${path} with something other than JSON (${text.slice(0, 80)})`)));
            }
          }
          const status = res.statusCode ?? 0;
          if (status !== 200) return finish(() => reject(answerError(where, status, res.statusMessage ?? '', parsed)));
          if (!parsed || typeof parsed !== 'object' || !('data' in parsed)) {
            return finish(() => reject(new PolyvisorError('ENDPOINT_PROTOCOL', `Proxmox endpoint ${this.o.endpoint} answered ${method} ${path} without a "data" member`)));
          }
          finish(() => resolve((parsed as { data: unknown }).data));
        });
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
