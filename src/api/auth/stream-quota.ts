/**
 * Long-lived streams one token may hold at once (audit defect 10): the event
 * stream (SSE or WebSocket) and the stats WebSocket each keep a count per
 * token, so one viewer cannot take every connection slot. The trusted unix
 * socket (root) is not capped.
 */
import { PolyvisorError } from '../../shared/index.js';
import type { Principal } from './principal.js';

/** Streams of one kind one token may hold at once. */
export const STREAMS_PER_TOKEN = 16;

export class StreamQuota {
  private readonly held = new Map<string, number>();

  constructor(private readonly what: string, readonly perToken = STREAMS_PER_TOKEN) {}

  /** The key a principal's streams count under: a TCP token's name; the unix socket is not counted. */
  private static keyOf(p: Principal | undefined): string | undefined {
    return p?.via === 'tcp' ? p.actor : undefined;
  }

  /** Refuses with 429 TOO_MANY_STREAMS when the principal already holds its share (call before the answer starts). */
  check(p: Principal | undefined): void {
    const key = StreamQuota.keyOf(p);
    if (key !== undefined && (this.held.get(key) ?? 0) >= this.perToken) {
      throw new PolyvisorError('TOO_MANY_STREAMS', `token ${key} already holds ${this.perToken} ${this.what}`);
    }
  }

  /** Counts one stream for the principal; the returned release may be called any number of times. */
  take(p: Principal | undefined): () => void {
    const key = StreamQuota.keyOf(p);
    if (key === undefined) return () => undefined;
    this.held.set(key, (this.held.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.held.get(key) ?? 1) - 1;
      if (n <= 0) this.held.delete(key);
      else this.held.set(key, n);
    };
  }
}
