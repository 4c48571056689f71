/**
 * One connected session per endpoint, made on first use and kept; a session
 * whose endpoint went away (ENDPOINT_LOST, ENDPOINT_UNREACHABLE) is dropped so
 * the next call connects again. Connecting never blocks other endpoints.
 */
import type { DriverRegistry, EndpointSession } from '../drivers/index.js';
import { anySignal, isPolyvisorError, type Logger } from '../shared/index.js';
import { connectionOf, type EndpointRecord } from './endpoint-store.js';

const CONNECT_TIMEOUT_MS = 20_000;

export class SessionPool {
  private readonly sessions = new Map<string, Promise<EndpointSession>>();

  constructor(private readonly drivers: DriverRegistry, private readonly logger: Logger) {}

  /** The endpoint's session, connecting when there is none. */
  get(rec: EndpointRecord, signal?: AbortSignal): Promise<EndpointSession> {
    let s = this.sessions.get(rec.name);
    if (!s) {
      const sig = signal ? anySignal([signal, AbortSignal.timeout(CONNECT_TIMEOUT_MS)]) : AbortSignal.timeout(CONNECT_TIMEOUT_MS);
      s = this.drivers.get(rec.driver).connect(connectionOf(rec), sig);
      this.sessions.set(rec.name, s);
      s.catch(() => {
        if (this.sessions.get(rec.name) === s) this.sessions.delete(rec.name);
      });
    }
    return s;
  }

  /** Runs `fn` on the endpoint's session; a lost endpoint's session is dropped for the next call. */
  async use<T>(rec: EndpointRecord, fn: (s: EndpointSession) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const s = await this.get(rec, signal);
    try {
      return await fn(s);
    } catch (err) {
      if (isPolyvisorError(err, 'ENDPOINT_LOST') || isPolyvisorError(err, 'ENDPOINT_UNREACHABLE')) await this.drop(rec.name);
      throw err;
    }
  }

  /** Closes and forgets the endpoint's session (removal, lost endpoint). */
  async drop(name: string): Promise<void> {
    const s = this.sessions.get(name);
    this.sessions.delete(name);
    if (!s) return;
    await s.then((x) => x.close()).catch((err: unknown) => this.logger.debug({ endpoint: name, err: String(err) }, 'closing a session failed'));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((n) => this.drop(n)));
  }
}
