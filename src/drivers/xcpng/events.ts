/**
 * State changes pushed by the pool: a loop of event.from(["vm"], token, 30)
 * long polls (XAPI answers as soon as a VM record changes, or after the
 * timeout with none). The first call, with an empty token, gives the
 * current records (names by ref, for the `del` events that carry no
 * record) and the token to start from. Templates, control domains and
 * snapshots are not reported.
 */
import type { ForeignChange, ForeignEvents } from '../endpoint.js';
import type { XcpContext } from './context.js';
import { isGuest } from './context.js';
import { stateOf } from './map.js';
import type { Ref, VmRecord } from './records.js';

interface XapiEvent {
  class?: string;
  operation?: 'add' | 'mod' | 'del';
  ref?: Ref;
  snapshot?: VmRecord;
}

interface EventBatch {
  events?: XapiEvent[];
  token?: string;
}

export function eventsPart(x: XcpContext, pollSeconds = 30): ForeignEvents {
  return {
    watch(onChange: (c: ForeignChange) => void, onError: (err: Error) => void): () => void {
      const ac = new AbortController();
      const names = new Map<Ref, string>();
      void (async () => {
        try {
          let batch = (await x.client.call('event.from', [['vm'], '', 0], ac.signal, 'watching VMs')) as EventBatch;
          for (const e of batch.events ?? []) if (e.ref && e.snapshot && isGuest(e.snapshot)) names.set(e.ref, e.snapshot.name_label);
          while (!ac.signal.aborted) {
            batch = (await x.client.call('event.from', [['vm'], batch.token ?? '', pollSeconds], ac.signal, 'watching VMs')) as EventBatch;
            for (const e of batch.events ?? []) {
              if (e.class !== 'vm' || !e.ref) continue;
              if (e.operation === 'del') {
                const name = names.get(e.ref);
                names.delete(e.ref);
                if (name) onChange({ vm: name, gone: true });
              } else if (e.snapshot && isGuest(e.snapshot)) {
                names.set(e.ref, e.snapshot.name_label);
                onChange({ vm: e.snapshot.name_label, state: stateOf(e.snapshot.power_state) });
              }
            }
          }
        } catch (err) {
          if (!ac.signal.aborted) onError(err as Error);
        }
      })();
      return () => ac.abort();
    },
  };
}
