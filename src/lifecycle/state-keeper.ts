/**
 * The only writer of VM state: checks the transition table, makes the change
 * durable in the store, then tells listeners.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../shared/index.js';
import type { VmState } from '../spec/index.js';
import type { Store, VmPatch, VmRecord } from '../store/index.js';
import { assertTransition } from './transitions.js';

export interface StateChange {
  vm: string;
  id: string;
  from: VmState;
  to: VmState;
  reason: string;
  at: string;
}

/** A VM's snapshots or backups changed (created, deleted, reverted, pruned, restored). */
export interface ContentChange {
  vm: string;
  id: string;
  what: 'snapshots' | 'backups';
  action: string;
  /** The snapshot name or backup id acted on, when there is one. */
  name: string | null;
  at: string;
}

export class StateKeeper extends EventEmitter<{ state: [StateChange]; removed: [{ vm: string; id: string }]; content: [ContentChange] }> {
  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {
    super();
  }

  /** Tells listeners that `rec`'s snapshots or backups changed (after the change is durable). */
  contentChanged(rec: { name: string; id: string }, what: ContentChange['what'], action: string, name: string | null = null): void {
    this.emit('content', { vm: rec.name, id: rec.id, what, action, name, at: new Date().toISOString() });
  }

  /**
   * Takes a VM over from a lost host (cluster HA): one compare-and-set on the
   * record's generation makes `host` its owner, stopped, with no runtime. Throws
   * VM_BUSY if the record changed since the HA manager decided.
   */
  async takeOver(rec: VmRecord, host: string, reason: string, expectGeneration: number): Promise<VmRecord> {
    const next = await this.store.updateVm(rec.name, { host, state: 'stopped', stateReason: reason, runtime: null }, expectGeneration);
    this.log.info({ vm: rec.name, from: rec.host, to: host, reason }, 'vm taken over');
    this.emit('state', { vm: rec.name, id: rec.id, from: rec.state, to: 'stopped', reason, at: next.updatedAt });
    return next;
  }

  /** Moves `rec` to `to` (durably) and returns the new record. */
  async set(rec: VmRecord, to: VmState, reason: string, extra: Omit<VmPatch, 'state' | 'stateReason'> = {}): Promise<VmRecord> {
    if (rec.state !== to) assertTransition(rec.name, rec.state, to);
    const next = await this.store.updateVm(rec.name, { ...extra, state: to, stateReason: reason });
    if (rec.state !== to) {
      const change: StateChange = { vm: rec.name, id: rec.id, from: rec.state, to, reason, at: next.updatedAt };
      this.log.info({ vm: rec.name, from: rec.state, to, reason }, 'vm state changed');
      this.emit('state', change);
    }
    return next;
  }
}
