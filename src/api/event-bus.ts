/**
 * One stream of events for every listener: VM state changes, removals and
 * snapshot/backup changes (from the StateKeeper) and operation progress, numbered so a client can
 * resume after a reconnect (SSE Last-Event-ID) from the last 1,000.
 */
import type { ContentChange, OperationRegistry, StateKeeper } from '../lifecycle/index.js';
import type { EventView, OperationView } from '../spec/index.js';

type Listener = (e: EventView) => void;
type Unnumbered<T> = T extends EventView ? Omit<T, 'seq'> : never;

export class EventBus {
  private seq = 0;
  private readonly recent: EventView[] = [];
  private readonly listeners = new Set<Listener>();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(states: StateKeeper, operations: OperationRegistry, private readonly keep = 1000) {
    const onState = (c: { vm: string; id: string; from: string; to: string; reason: string; at: string }): void =>
      this.publish({ type: 'vm.state', at: c.at, vm: c.vm, id: c.id, from: c.from, to: c.to, reason: c.reason });
    const onRemoved = (r: { vm: string; id: string }): void => this.publish({ type: 'vm.removed', at: new Date().toISOString(), vm: r.vm, id: r.id });
    const onContent = (c: ContentChange): void =>
      this.publish({ type: c.what === 'snapshots' ? 'vm.snapshots' : 'vm.backups', at: c.at, vm: c.vm, id: c.id, action: c.action, name: c.name });
    const onOp = (op: OperationView): void =>
      this.publish({ type: 'operation', at: op.updatedAt, vm: op.vm, operation: op });
    states.on('state', onState);
    states.on('removed', onRemoved);
    states.on('content', onContent);
    operations.on('operation', onOp);
    this.unsubscribe.push(() => states.off('state', onState), () => states.off('removed', onRemoved), () => states.off('content', onContent), () => operations.off('operation', onOp));
  }

  publish(e: Unnumbered<EventView>): void {
    const ev = { ...e, seq: ++this.seq } as EventView;
    this.recent.push(ev);
    if (this.recent.length > this.keep) this.recent.shift();
    for (const l of this.listeners) l(ev);
  }

  /** Calls `fn` for every event after `afterSeq` still kept, then for each new one; returns the unsubscribe. */
  subscribe(fn: Listener, afterSeq?: number): () => void {
    if (afterSeq !== undefined) for (const e of this.recent) if (e.seq > afterSeq) fn(e);
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    this.listeners.clear();
  }
}

export function matchesVm(e: EventView, vm: string | undefined): boolean {
  return vm === undefined || e.vm === vm;
}
