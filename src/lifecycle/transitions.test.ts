import { describe, expect, it } from 'vitest';
import { VM_STATES } from '../spec/index.js';
import { isPolyvisorError } from '../shared/index.js';
import { ACTIONS, TRANSITIONS, actionsAllowedIn, assertAction, assertTransition, canTransition } from './transitions.js';

describe('VM transition table', () => {
  it('covers every state and only names known states', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...VM_STATES].sort());
    for (const targets of Object.values(TRANSITIONS)) for (const t of targets) expect(VM_STATES).toContain(t);
  });

  it('allows the normal life of a VM', () => {
    const path = ['created', 'starting', 'running', 'paused', 'running', 'stopping', 'stopped', 'starting', 'running', 'stopping', 'suspended', 'starting', 'running', 'stopped'] as const;
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1]!, path[i]!), `${path[i - 1]} -> ${path[i]}`).toBe(true);
  });

  it.each([
    ['created', 'running'],
    ['stopped', 'running'],
    ['stopped', 'paused'],
    ['suspended', 'running'],
    ['created', 'stopped'],
    ['paused', 'suspended'],
  ] as const)('rejects %s -> %s with a typed error', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    try {
      assertTransition('web', from, to);
      expect.unreachable();
    } catch (err) {
      expect(isPolyvisorError(err, 'INVALID_TRANSITION')).toBe(true);
      expect((err as { details: { allowed: string[] } }).details.allowed).toEqual(TRANSITIONS[from]);
    }
  });

  it('every state can reach error, and error can recover', () => {
    for (const s of VM_STATES) if (s !== 'error') expect(canTransition(s, 'error')).toBe(true);
    expect(canTransition('error', 'starting')).toBe(true);
  });

  it('gates user actions by state and lists what is allowed', () => {
    expect(() => assertAction('web', 'pause', 'stopped')).toThrow(/cannot pause VM web while it is stopped; allowed now: start, remove/);
    expect(() => assertAction('web', 'remove', 'running')).toThrow(/allowed now: stop, kill, pause, reboot, suspend/);
    expect(() => assertAction('web', 'resume', 'suspended')).not.toThrow();
    expect(actionsAllowedIn('created')).toEqual(['start', 'remove']);
  });

  it('every action target is reachable from each state that allows it', () => {
    const target = { start: 'starting', stop: 'stopping', kill: 'stopped', pause: 'paused', resume: 'running', reboot: 'running', suspend: 'stopping' } as const;
    for (const [action, states] of Object.entries(ACTIONS)) {
      if (action === 'remove') continue;
      for (const s of states) {
        const to = action === 'resume' && s === 'suspended' ? 'starting' : target[action as keyof typeof target];
        if (s === to) continue;
        expect(canTransition(s, to), `${action} from ${s} -> ${to}`).toBe(true);
      }
    }
  });
});
