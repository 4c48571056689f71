/**
 * One logged-in XAPI session on an endpoint: session.login_with_password
 * (user and password from the secrets store, never logged or put in a
 * message), every call with the session ref first, and one new login when
 * XAPI answers SESSION_INVALID (a session expired, xapi restarted, or a
 * logout elsewhere): the refused call is sent again once; a second refusal
 * is ENDPOINT_AUTH_FAILED. XAPI errors come back as catalogue errors
 * (errors.ts), keeping XAPI's code in `details.xapi`.
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { abortError, fail, PolyvisorError } from '../../shared/index.js';
import type { EndpointConnection } from '../endpoint.js';
import { transportError, xapiFailure, XapiError } from './errors.js';
import { XapiRpc } from './rpc.js';
import { xapiOrigin } from './url.js';

/** The API version the driver speaks (XenServer 7.x / XCP-ng 8.x accept it) and how it names itself in XAPI's audit log. */
const API_VERSION = '2.20';
const ORIGINATOR = 'polyvisor';

export class XapiClient {
  readonly endpoint: string;
  readonly rpc: XapiRpc;
  private session: string | null = null;
  private login: Promise<string> | null = null;
  /** How many times a session was opened (the first login included). */
  logins = 0;

  constructor(private readonly c: EndpointConnection, requestTimeoutMs: number) {
    if (c.token !== undefined) fail('INVALID_ARGUMENT', `XAPI has no API tokens: give endpoint ${c.name} --user and --password-file`);
    if (!c.user || c.password === undefined) fail('INVALID_ARGUMENT', `endpoint ${c.name} needs --user (root, or a pool user) and --password-file`);
    this.endpoint = c.name;
    this.rpc = new XapiRpc({ endpoint: c.name, origin: xapiOrigin(c.url), ca: c.ca, insecure: c.insecure, requestTimeoutMs });
  }

  /** The session ref, logging in when none is held (one login at a time). */
  async sessionRef(signal: AbortSignal, renew = false): Promise<string> {
    if (this.session && !renew) return this.session;
    const stale = this.session;
    this.login ??= (async () => {
      try {
        const ref = await this.rpc.call('session.login_with_password', [this.c.user, this.c.password, API_VERSION, ORIGINATOR], signal);
        if (typeof ref !== 'string' || !ref.startsWith('OpaqueRef:')) throw new PolyvisorError('ENDPOINT_PROTOCOL', `XCP-ng endpoint ${this.endpoint} answered the login without a session reference`);
        this.logins++;
        this.session = ref;
        return ref;
      } catch (err) {
        if (err instanceof XapiError) throw xapiFailure(this.endpoint, 'login', err);
        throw err;
      }
    })().finally(() => {
      this.login = null;
    });
    const ref = await this.login;
    if (stale && ref === stale) return this.sessionRef(signal, true);
    return ref;
  }

  /** `method` with the session first; `what` names the operation in errors. */
  async call(method: string, args: unknown[], signal: AbortSignal, what = method, accepted = false): Promise<unknown> {
    let ref = await this.sessionRef(signal);
    try {
      return await this.rpc.call(method, [ref, ...args], signal, accepted);
    } catch (err) {
      if (!(err instanceof XapiError)) throw err;
      if (err.code !== 'SESSION_INVALID') throw xapiFailure(this.endpoint, what, err);
    }
    if (this.session === ref) this.session = null;
    ref = await this.sessionRef(signal);
    try {
      return await this.rpc.call(method, [ref, ...args], signal, accepted);
    } catch (err) {
      if (err instanceof XapiError) throw xapiFailure(this.endpoint, what, err);
      throw err;
    }
  }

  /** GET of one of XAPI's HTTP handlers (/export_raw_vdi…) with the session in the query; the response, status 200 only. */
  async httpGet(path: string, query: Record<string, string>, signal: AbortSignal, what: string): Promise<IncomingMessage> {
    const origin = this.rpc.o.origin;
    const attempt = async (renew: boolean): Promise<IncomingMessage> => {
      const session = await this.sessionRef(signal, renew);
      const q = new URLSearchParams({ ...query, session_id: session }).toString();
      if (signal.aborted) throw abortError(signal, what);
      return new Promise((resolve, reject) => {
        const req = https.get({ agent: this.rpc.agent, host: origin.hostname.replace(/^\[|\]$/g, ''), port: origin.port || 443, path: `${path}?${q}`, signal }, resolve);
        req.on('error', (err) => reject(signal.aborted ? abortError(signal, what) : transportError(this.endpoint, origin.origin, err, false)));
      });
    };
    let res = await attempt(false);
    if (res.statusCode === 401) {
      res.resume();
      res = await attempt(true);
    }
    if (res.statusCode === 200) return res;
    res.resume();
    if (res.statusCode === 401 || res.statusCode === 403) throw new PolyvisorError('ENDPOINT_AUTH_FAILED', `XCP-ng endpoint ${this.endpoint} refused the ${what} (HTTP ${res.statusCode})`);
    if (res.statusCode === 404) throw new PolyvisorError('ENDPOINT_TASK_FAILED', `XCP-ng endpoint ${this.endpoint} has no such disk for the ${what} (HTTP 404; it was removed?)`);
    throw new PolyvisorError('ENDPOINT_PROTOCOL', `XCP-ng endpoint ${this.endpoint} answered HTTP ${res.statusCode} to the ${what}`);
  }

  async close(): Promise<void> {
    const ref = this.session;
    this.session = null;
    if (ref) await this.rpc.call('session.logout', [ref], AbortSignal.timeout(5_000)).catch(() => undefined);
    this.rpc.close();
  }
}
