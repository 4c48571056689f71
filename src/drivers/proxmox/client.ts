/**
 * Authenticated calls to one Proxmox VE endpoint, by API token or by ticket.
 *
 * - Token (`USER@REALM!TOKENID=SECRET`): sent as `Authorization:
 *   PVEAPIToken=...` on every call; no CSRF token is needed.
 * - Password: POST /access/ticket gives a ticket (cookie PVEAuthCookie,
 *   valid 2 h) and a CSRFPreventionToken that every write must carry. The
 *   ticket is renewed after `renewAfterMs` (Proxmox's own clients renew well
 *   before the 2 h), and once more when a call answers 401.
 *
 * Credentials stay in this object: never logged, never in a message.
 */
import { fail, isPolyvisorError } from '../../shared/index.js';
import type { EndpointConnection } from '../endpoint.js';
import { PveHttp, type Method, type Params } from './http.js';
import { apiBase } from './url.js';

export interface ClientOptions {
  requestTimeoutMs: number;
  renewAfterMs: number;
}

type Auth =
  | { kind: 'token'; header: string }
  | { kind: 'ticket'; user: string; password: string; ticket?: string; csrf?: string; at: number };

const TOKEN = /^([^\s@!]+@[^\s@!]+)!([A-Za-z][A-Za-z0-9._-]*)=(\S+)$/;

function authOf(c: EndpointConnection): Auth {
  if (c.token !== undefined) {
    if (!TOKEN.test(c.token)) {
      fail('INVALID_ARGUMENT', `the API token of endpoint ${c.name} is not USER@REALM!TOKENID=SECRET (Proxmox shows the secret once, when the token is made)`);
    }
    return { kind: 'token', header: `PVEAPIToken=${c.token}` };
  }
  if (!c.user || c.password === undefined) {
    fail('INVALID_ARGUMENT', `endpoint ${c.name} needs --user USER@REALM with --password-file, or --token-file with USER@REALM!TOKENID=SECRET`);
  }
  return { kind: 'ticket', user: c.user.includes('@') ? c.user : `${c.user}@pam`, password: c.password, at: 0 };
}

export class PveClient {
  readonly endpoint: string;
  private readonly http: PveHttp;
  private readonly auth: Auth;
  private login: Promise<void> | null = null;

  constructor(c: EndpointConnection, private readonly o: ClientOptions) {
    this.endpoint = c.name;
    this.auth = authOf(c);
    this.http = new PveHttp({ endpoint: c.name, base: apiBase(c.url), ca: c.ca, insecure: c.insecure, requestTimeoutMs: o.requestTimeoutMs });
  }

  get usesToken(): boolean {
    return this.auth.kind === 'token';
  }

  get(path: string, params: Params, signal: AbortSignal, accepted = false): Promise<unknown> {
    return this.call('GET', path, params, signal, accepted);
  }

  post(path: string, params: Params, signal: AbortSignal): Promise<unknown> {
    return this.call('POST', path, params, signal);
  }

  put(path: string, params: Params, signal: AbortSignal): Promise<unknown> {
    return this.call('PUT', path, params, signal);
  }

  del(path: string, params: Params, signal: AbortSignal, accepted = false): Promise<unknown> {
    return this.call('DELETE', path, params, signal, accepted);
  }

  /** Makes sure a ticket is held (password logins); a no-op with a token. */
  async ensureTicket(signal: AbortSignal, force = false): Promise<void> {
    const a = this.auth;
    if (a.kind !== 'ticket') return;
    if (!force && a.ticket && Date.now() - a.at < this.o.renewAfterMs) return;
    this.login ??= (async () => {
      const data = (await this.http.call('POST', '/access/ticket', { username: a.user, password: a.password }, signal, { headers: {} })) as {
        ticket?: unknown; CSRFPreventionToken?: unknown;
      } | null;
      if (typeof data?.ticket !== 'string' || typeof data.CSRFPreventionToken !== 'string') {
        fail('ENDPOINT_PROTOCOL', `Proxmox endpoint ${this.endpoint} answered the login without a ticket and CSRF token`);
      }
      a.ticket = data.ticket;
      a.csrf = data.CSRFPreventionToken;
      a.at = Date.now();
    })().finally(() => {
      this.login = null;
    });
    await this.login;
  }

  private headers(write: boolean): Record<string, string> {
    const a = this.auth;
    if (a.kind === 'token') return { Authorization: a.header };
    const h: Record<string, string> = { Cookie: `PVEAuthCookie=${encodeURIComponent(a.ticket ?? '')}` };
    if (write) h['CSRFPreventionToken'] = a.csrf ?? '';
    return h;
  }

  private async call(method: Method, path: string, params: Params, signal: AbortSignal, accepted = false): Promise<unknown> {
    await this.ensureTicket(signal);
    const write = method !== 'GET';
    try {
      return await this.http.call(method, path, params, signal, { headers: this.headers(write), accepted });
    } catch (err) {
      // A 401 means the call was not run: with a ticket (expired, or the node's key rotated) log in once more and retry.
      if (this.auth.kind !== 'ticket' || !isPolyvisorError(err, 'ENDPOINT_AUTH_FAILED') || !/ticket|csrf/i.test(err.message)) throw err;
      await this.ensureTicket(signal, true);
      return this.http.call(method, path, params, signal, { headers: this.headers(write), accepted });
    }
  }

  close(): void {
    this.http.close();
  }
}
