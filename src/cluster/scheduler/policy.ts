/**
 * Scheduling policy: overcommit ratios, pack or spread, weights. The defaults
 * and why are in docs/scheduler.md. Pure.
 */
import { fail } from '../../shared/index.js';
import type { Policy } from './types.js';

export const DEFAULT_POLICY: Policy = {
  overcommit: { cpu: 4, memory: 1, disk: 1 },
  mode: 'pack',
  weights: { cpu: 1, memory: 1, disk: 1, softAffinity: 100 },
};

export interface PolicyInput {
  overcommit?: Partial<Policy['overcommit']>;
  mode?: string;
  weights?: Partial<Policy['weights']>;
}

function positive(name: string, v: number, allowZero: boolean): number {
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    fail('INVALID_ARGUMENT', `scheduler ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, not ${v}`);
  }
  return v;
}

/** The defaults with the given fields replaced; throws INVALID_ARGUMENT naming a bad field. */
export function resolvePolicy(input: PolicyInput = {}): Policy {
  const o = { ...DEFAULT_POLICY.overcommit, ...input.overcommit };
  const w = { ...DEFAULT_POLICY.weights, ...input.weights };
  const mode = input.mode ?? DEFAULT_POLICY.mode;
  if (mode !== 'pack' && mode !== 'spread') fail('INVALID_ARGUMENT', `scheduler mode must be "pack" or "spread", not ${JSON.stringify(mode)}`);
  for (const k of ['cpu', 'memory', 'disk'] as const) positive(`overcommit.${k}`, o[k], false);
  for (const k of ['cpu', 'memory', 'disk', 'softAffinity'] as const) positive(`weights.${k}`, w[k], true);
  if (w.cpu + w.memory + w.disk === 0) fail('INVALID_ARGUMENT', 'scheduler weights cpu, memory and disk cannot all be 0');
  return { overcommit: o, mode, weights: w };
}
