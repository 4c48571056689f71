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

export class StateKeeper extends EventEmitter<{ state: [StateChange]; removed: [{ vm: string; id: string }] }> {
  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {
    super();
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
