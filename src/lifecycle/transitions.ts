/**
 * The one VM state table (DESIGN rule 4). Only lifecycle/ changes VM state,
 * and every change goes through assertTransition.
 */
import { fail } from '../shared/index.js';
import type { VmState } from '../spec/index.js';

/** For each state, the states it may move to. */
export const TRANSITIONS: Readonly<Record<VmState, readonly VmState[]>> = {
  created: ['starting', 'error'],
  starting: ['running', 'paused', 'stopped', 'error'],
  running: ['paused', 'stopping', 'stopped', 'migrating', 'error'],
  paused: ['running', 'stopping', 'stopped', 'migrating', 'error'],
  stopping: ['stopped', 'suspended', 'running', 'paused', 'error'],
  stopped: ['starting', 'error'],
  suspended: ['starting', 'stopped', 'error'],
  migrating: ['running', 'paused', 'stopped', 'suspended', 'error'],
  error: ['starting', 'stopped'],
};

export function canTransition(from: VmState, to: VmState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(name: string, from: VmState, to: VmState): void {
  if (!canTransition(from, to)) {
    fail('INVALID_TRANSITION', `VM ${name} cannot go from ${from} to ${to}`, {
      details: { from, to, allowed: TRANSITIONS[from] },
    });
  }
}

/** User actions and the states they may be asked in. */
export const ACTIONS = {
  start: ['created', 'stopped', 'error'],
  stop: ['running', 'paused'],
  kill: ['starting', 'running', 'paused', 'stopping', 'error'],
  pause: ['running'],
  resume: ['paused', 'suspended'],
  reboot: ['running'],
  suspend: ['running', 'paused'],
  remove: ['created', 'stopped', 'suspended', 'error'],
} as const satisfies Record<string, readonly VmState[]>;

export type VmAction = keyof typeof ACTIONS;

export function actionsAllowedIn(state: VmState): VmAction[] {
  return (Object.keys(ACTIONS) as VmAction[]).filter((a) => (ACTIONS[a] as readonly VmState[]).includes(state));
}

export function assertAction(name: string, action: VmAction, state: VmState): void {
  if (!(ACTIONS[action] as readonly VmState[]).includes(state)) {
    const allowed = actionsAllowedIn(state);
    fail('INVALID_TRANSITION', `cannot ${action} VM ${name} while it is ${state}; allowed now: ${allowed.join(', ') || 'nothing'}`, {
      details: { state, action, allowed },
    });
  }
}
