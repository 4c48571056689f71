/**
 * A PlacementRequest checked once and made quick to test against many hosts:
 * the selector parsed, rules split into hard and soft. Pure.
 */
import { fail } from '../../shared/index.js';
import { parseSelector, type Selector } from './selector.js';
import type { AffinityTarget, PlacementRequest, Policy } from './types.js';

export interface SoftRule {
  readonly target: AffinityTarget;
  /** Points per matching VM: positive for affinity, negative for anti-affinity. */
  readonly points: number;
}

export interface CompiledRequest {
  readonly req: PlacementRequest;
  readonly selector: Selector;
  readonly groups: ReadonlySet<string>;
  readonly mustBeWith: readonly AffinityTarget[];
  readonly mustAvoid: readonly AffinityTarget[];
  readonly soft: readonly SoftRule[];
  /** Index of a pool in preferredPools; pools not listed rank after them all. */
  poolRank(pool: string): number;
  /** Whether the pool is allowed at all (restrictToPools). */
  poolAllowed(pool: string): boolean;
}

function amount(req: PlacementRequest, name: 'cpus' | 'memoryBytes' | 'diskBytes'): void {
  const v = req[name];
  if (!Number.isFinite(v) || v < 0) fail('INVALID_ARGUMENT', `VM ${req.vm}: ${name} must be a non-negative number, not ${v}`);
}

export function targetText(t: AffinityTarget): string {
  return 'vm' in t ? `VM ${t.vm}` : `group ${t.group}`;
}

export function compileRequest(req: PlacementRequest, policy: Policy): CompiledRequest {
  amount(req, 'cpus');
  amount(req, 'memoryBytes');
  amount(req, 'diskBytes');
  const mustBeWith: AffinityTarget[] = [];
  const mustAvoid: AffinityTarget[] = [];
  const soft: SoftRule[] = [];
  for (const r of req.rules ?? []) {
    if ('vm' in r.target && r.target.vm === req.vm) fail('INVALID_ARGUMENT', `VM ${req.vm}: a rule cannot name the VM itself`);
    if (r.hard ?? true) (r.kind === 'affinity' ? mustBeWith : mustAvoid).push(r.target);
    else {
      const w = r.weight ?? policy.weights.softAffinity;
      if (!Number.isFinite(w) || w < 0) fail('INVALID_ARGUMENT', `VM ${req.vm}: a soft rule's weight must be a non-negative number, not ${w}`);
      soft.push({ target: r.target, points: r.kind === 'affinity' ? w : -w });
    }
  }
  const pools = req.preferredPools ?? [];
  const rank = new Map(pools.map((p, i) => [p, i] as const));
  return {
    req,
    selector: parseSelector(req.selector ?? ''),
    groups: new Set(req.groups ?? []),
    mustBeWith,
    mustAvoid,
    soft,
    poolRank: (pool) => rank.get(pool) ?? pools.length,
    poolAllowed: (pool) => !req.restrictToPools || rank.has(pool),
  };
}
