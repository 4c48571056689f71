/**
 * State changes pushed by vCenter: a PropertyCollector of the watch's own
 * (CreatePropertyCollector, so watches do not take each other's updates) with
 * a filter on every VM's name and power state through a container view, read
 * with WaitForUpdatesEx in a long-poll loop that carries the version. The first
 * answer is every VM's current state, reported too: a change between the
 * caller's last list and the filter's creation is not lost. Later answers are
 * changes: a VM entering (created), its power state changing, or leaving.
 * After a re-login (vCenter ended the idle session) the watch starts over.
 */
import type { ForeignChange, ForeignEvents } from '../endpoint.js';
import { vmState } from './inventory.js';
import { filterSpec, viewObjectSet, type Properties } from './property-collector.js';
import type { SoapClient } from './soap-client.js';
import { asArray, ref, text, type MoRef, type Node } from './soap-envelope.js';
import { anySignal } from '../../shared/index.js';

/** How long one WaitForUpdatesEx may wait on the server before answering empty (s). */
const MAX_WAIT_S = 30;

/** The events part, and a function that stops every watch still running (the session's close calls it). */
export function eventsPart(soap: SoapClient, props: Properties): { part: ForeignEvents; stopAll: () => Promise<void> } {
  const running = new Set<Promise<void>>();
  const stops = new Set<() => void>();
  const part: ForeignEvents = {
    watch(onChange, onError) {
      const ac = new AbortController();
      let collector: MoRef | null = null;
      const names = new Map<string, string>();
      const loop = async (): Promise<void> => {
        const setup = anySignal([ac.signal, AbortSignal.timeout(60_000)]);
        const pc = ref((await soap.call('CreatePropertyCollector', soap.content.propertyCollector, {}, setup)).returnval);
        if (!pc) throw new Error('CreatePropertyCollector returned no collector');
        collector = pc;
        const view = await props.view(['VirtualMachine'], setup);
        await soap.call('CreateFilter', pc, {
          spec: filterSpec(viewObjectSet(view), [{ type: 'VirtualMachine', paths: ['name', 'runtime.powerState'] }]),
          partialUpdates: false,
        }, setup);
        let version = '';
        while (!ac.signal.aborted) {
          const signal = anySignal([ac.signal, AbortSignal.timeout((MAX_WAIT_S + 30) * 1000)]);
          const b = await soap.call('WaitForUpdatesEx', pc, { version, options: { maxWaitSeconds: MAX_WAIT_S } }, signal);
          const set = b.returnval as Node | undefined;
          if (!set) continue; // waited MAX_WAIT_S without a change
          version = text(set.version) ?? version;
          for (const fs of asArray<Node>(set.filterSet)) {
            for (const o of asArray<Node>(fs.objectSet)) {
              const change = readChange(o, names);
              if (change) onChange(change);
            }
          }
        }
      };
      // A re-login (an expired session) takes the collector with the old session: start over.
      const run = async (): Promise<void> => {
        for (let tries = 0; ; tries++) {
          const gen = soap.generation;
          try {
            return await loop();
          } catch (err) {
            if (ac.signal.aborted || soap.generation === gen || tries >= 3) throw err;
          }
        }
      };
      const stop = (): void => ac.abort();
      const done = run().catch((err: unknown) => {
        if (!ac.signal.aborted) onError(err instanceof Error ? err : new Error(String(err)));
      }).then(async () => {
        const pc = collector;
        if (pc) await soap.call('DestroyPropertyCollector', pc, {}, AbortSignal.timeout(10_000)).catch(() => undefined);
      }).finally(() => {
        running.delete(done);
        stops.delete(stop);
      });
      running.add(done);
      stops.add(stop);
      return stop;
    },
  };
  const stopAll = async (): Promise<void> => {
    for (const s of [...stops]) s();
    await Promise.all([...running]);
  };
  return { part, stopAll };
}

/** One ObjectUpdate → a change, keeping the id → name map current. Exported for tests. */
export function readChange(o: Node, names: Map<string, string>): ForeignChange | null {
  const obj = ref(o.obj);
  if (!obj) return null;
  const kind = text(o.kind);
  let state: string | null = null;
  for (const c of asArray<Node>(o.changeSet)) {
    const name = text(c.name);
    if (name === 'name' && text(c.op) !== 'remove') names.set(obj.value, text(c.val) ?? obj.value);
    if (name === 'runtime.powerState') state = text(c.val);
  }
  const vm = names.get(obj.value) ?? obj.value;
  if (kind === 'leave') {
    names.delete(obj.value);
    return { vm, gone: true };
  }
  return state === null ? null : { vm, state: vmState(state) };
}
