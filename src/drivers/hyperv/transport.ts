/**
 * HTTPS POSTs of SOAP envelopes to one WinRM listener: a keep-alive agent
 * that trusts exactly the endpoint's CA (or nothing, when insecure), basic
 * authentication (sent only over TLS), a timeout and the caller's
 * AbortSignal on every request. Failures are catalogue errors; credentials
 * never reach a message.
 */
import { collectBody } from '../http-body.js';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { abortError, PolyvisorError } from '../../shared/index.js';
import { transportFailure } from '../transport-codes.js';

export interface TransportOptions {
  /** For messages: "Hyper-V endpoint hv (https://…/wsman)". */
  label: string;
  url: URL;
  user: string;
  password: string;
  ca?: string;
  insecure?: boolean;
  requestTimeoutMs: number;
}

const MAX_BODY = 64 * 1024 * 1024;

export class Transport {
  private readonly agent: https.Agent;
  private readonly auth: string;

  constructor(readonly o: TransportOptions) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 4, ...(o.ca ? { ca: [o.ca] } : {}), rejectUnauthorized: !o.insecure });
    this.auth = `Basic ${Buffer.from(`${o.user}:${o.password}`).toString('base64')}`;
  }

  /** The answer's status and text. `accepted`: a job is being followed, so a refused connection means the host went away. */
  async post(envelope: string, what: string, signal: AbortSignal, accepted: boolean): Promise<{ status: number; body: string }> {
    try {
      return await this.once(envelope, what, signal, accepted);
    } catch (err) {
      // A keep-alive socket the server had closed: one retry, safe because the request never reached it.
      if ((err as { reusedSocket?: boolean }).reusedSocket && !signal.aborted && (err as { beforeAnswer?: boolean }).beforeAnswer) return this.once(envelope, what, signal, accepted);
      throw err;
    }
  }

  private once(envelope: string, what: string, signal: AbortSignal, accepted: boolean): Promise<{ status: number; body: string }> {
    if (signal.aborted) return Promise.reject(abortError(signal, `${what} on ${this.o.label}`));
    const u = this.o.url;
    return new Promise((resolve, reject) => {
      let done = false;
      let answered = false;
      const finish = (fn: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      const req = https.request({
        agent: this.agent, host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port, method: 'POST', path: u.pathname,
        headers: { Authorization: this.auth, 'Content-Type': 'application/soap+xml;charset=UTF-8', 'Content-Length': Buffer.byteLength(envelope) },
      });
      const failed = (err: unknown): void => finish(() => {
        const kind = transportFailure(err, accepted || answered);
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        const e = kind === 'tls'
          ? new PolyvisorError('ENDPOINT_TLS_UNTRUSTED', `the certificate of ${this.o.label} is not trusted: ${(err as Error).message}`, { cause: err })
          : kind === 'unreachable'
            ? new PolyvisorError('ENDPOINT_UNREACHABLE', `${this.o.label} cannot be reached: ${code}`, { cause: err })
            : new PolyvisorError('ENDPOINT_LOST', `${this.o.label} went away during ${what}: ${code}`, { cause: err });
        reject(Object.assign(e, { reusedSocket: req.reusedSocket, beforeAnswer: !answered }));
      });
      const timer = setTimeout(() => {
        req.destroy();
        finish(() => reject(new PolyvisorError('ENDPOINT_LOST', `${this.o.label} did not answer ${what} within ${this.o.requestTimeoutMs} ms`)));
      }, this.o.requestTimeoutMs);
      const onAbort = (): void => {
        req.destroy();
        finish(() => reject(abortError(signal, `${what} on ${this.o.label}`)));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', failed);
      req.on('response', (res: IncomingMessage) => {
        answered = true;
        collectBody(req, res, MAX_BODY, failed, (text) => {
          finish(() => resolve({ status: res.statusCode ?? 0, body: text }));
        });
      });
      req.end(envelope);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
