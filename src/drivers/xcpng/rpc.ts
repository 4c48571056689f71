/**
 * XAPI's JSON-RPC v2 over HTTPS (wire-protocol.md): POST /jsonrpc with
 * {jsonrpc, method, params, id}; an answer carries `result`, or `error`
 * {code, message: the XAPI error code, data: its parameters}, thrown as
 * XapiError. v1 answers ({result, error: [code, ...params]}) are read too.
 * A keep-alive agent trusts exactly the endpoint's CA (or nothing when
 * insecure); every request has a timeout and the caller's AbortSignal.
 */
import { collectBody } from '../http-body.js';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { abortError, PolyvisorError } from '../../shared/index.js';
import { transportError, XapiError } from './errors.js';

export interface RpcOptions {
  endpoint: string;
  origin: URL;
  ca?: string;
  insecure?: boolean;
  /** No answer within this long: ENDPOINT_LOST. */
  requestTimeoutMs: number;
}

const MAX_BODY = 64 * 1024 * 1024;

/** Reads a JSON-RPC answer (v2 or v1): the result, or the XapiError it carries; null when it is neither. */
export function readAnswer(body: unknown): { result: unknown } | XapiError | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as { result?: unknown; error?: unknown };
  const err = b.error;
  if (err !== undefined && err !== null) {
    if (Array.isArray(err) && typeof err[0] === 'string') return new XapiError(err[0], err.slice(1).map(String));
    const e = err as { message?: unknown; data?: unknown };
    if (typeof e.message === 'string') return new XapiError(e.message, Array.isArray(e.data) ? e.data.map(String) : []);
    return null;
  }
  return 'result' in b ? { result: b.result } : null;
}

export class XapiRpc {
  readonly agent: https.Agent;
  private id = 0;

  constructor(readonly o: RpcOptions) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 8, ...(o.ca ? { ca: [o.ca] } : {}), rejectUnauthorized: !o.insecure });
  }

  /** The result of `method`; XapiError for an error answer; catalogue errors for the rest. */
  async call(method: string, params: unknown[], signal: AbortSignal, accepted = false): Promise<unknown> {
    try {
      return await this.once(method, params, signal, accepted);
    } catch (err) {
      // A keep-alive socket the server had closed: Node's documented case for one retry (reads only).
      if ((err as { reusedSocket?: boolean }).reusedSocket && /\.get_|^event\.from$|^task\./.test(method) && !signal.aborted) return this.once(method, params, signal, accepted);
      throw err;
    }
  }

  private once(method: string, params: unknown[], signal: AbortSignal, accepted: boolean): Promise<unknown> {
    const origin = this.o.origin.origin;
    if (signal.aborted) return Promise.reject(abortError(signal, `${method} on ${this.o.endpoint}`));
    const body = JSON.stringify({ jsonrpc: '2.0', method, params, id: ++this.id });
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
        agent: this.agent, host: this.o.origin.hostname.replace(/^\[|\]$/g, ''), port: this.o.origin.port || 443, method: 'POST', path: '/jsonrpc',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Accept: 'application/json' },
      });
      const fail = (err: unknown): void => finish(() => reject(Object.assign(transportError(this.o.endpoint, origin, err, accepted), { reusedSocket: req.reusedSocket })));
      const timeoutMs = method === 'event.from' ? this.o.requestTimeoutMs + 60_000 : this.o.requestTimeoutMs;
      const timer = setTimeout(() => {
        req.destroy();
        finish(() => reject(new PolyvisorError('ENDPOINT_LOST', `XCP-ng endpoint ${this.o.endpoint} (${origin}) did not answer ${method} within ${timeoutMs} ms`)));
      }, timeoutMs);
      const onAbort = (): void => {
        req.destroy();
        finish(() => reject(abortError(signal, `${method} on ${this.o.endpoint}`)));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.on('response', (res: IncomingMessage) => {
        collectBody(req, res, MAX_BODY, fail, (text) => {
          if (res.statusCode !== 200) {
            const info = /Additional information <\/h1>([^<]*)/.exec(text)?.[1]?.trim();
            return finish(() => reject(new PolyvisorError('ENDPOINT_PROTOCOL', `XCP-ng endpoint ${this.o.endpoint} answered ${method} with HTTP ${res.statusCode}${info ? ` (${info})` : ''}`)));
          }
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            return finish(() => reject(new PolyvisorError('ENDPOINT_PROTOCOL', `XCP-ng endpoint ${this.o.endpoint} answered ${method} with something other than JSON (${text.slice(0, 80)})`)));
          }
          const a = readAnswer(parsed);
          if (a === null) return finish(() => reject(new PolyvisorError('ENDPOINT_PROTOCOL', `XCP-ng endpoint ${this.o.endpoint} answered ${method} with neither a result nor an error`)));
          if (a instanceof XapiError) return finish(() => reject(a));
          finish(() => resolve(a.result));
        });
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
