/** One etcd watch over the gateway's streaming /v3/watch. */
import type { KvWatch, KvWatchEvent } from '../kv.js';
import { toKv, type RawKv } from './codec.js';
import type { EtcdTransport } from './transport.js';

interface WatchMessage {
  result?: { created?: boolean; canceled?: boolean; cancel_reason?: string; compact_revision?: string; events?: Array<{ type?: string; kv?: RawKv }> };
  error?: { message?: string };
}

export function openWatch(transport: EtcdTransport, createRequest: Record<string, unknown>, what: string, onEvent: (e: KvWatchEvent) => void): KvWatch {
  const ctl = new AbortController();
  let closed = false;
  const done = transport
    .stream('/v3/watch', { create_request: createRequest }, `watching ${what}`, ctl.signal, (m) => {
      const msg = m as WatchMessage;
      if (msg.error) throw new Error(`etcd watch of ${what} failed: ${msg.error.message ?? 'unknown'}`);
      const r = msg.result;
      if (r?.canceled) throw new Error(`etcd cancelled the watch of ${what}: ${r.cancel_reason ?? (r.compact_revision ? `compacted at ${r.compact_revision}` : 'no reason')}`);
      for (const ev of r?.events ?? []) {
        if (!closed) onEvent({ type: ev.type === 'DELETE' ? 'delete' : 'put', kv: toKv(ev.kv ?? {}) });
      }
    })
    .then(
      () => (closed ? undefined : new Error(`etcd ended the watch of ${what}`)),
      (err: unknown) => (closed ? undefined : err instanceof Error ? err : new Error(String(err))),
    );
  return {
    done,
    close(): void {
      if (closed) return;
      closed = true;
      ctl.abort();
    },
  };
}
