/**
 * The dependency graph of a stack's members: the order apply follows (levels:
 * each member depends only on members of earlier levels), cycles refused
 * with the cycle named, and its drawings as text and Graphviz DOT. Pure.
 */
import { fail } from '../shared/index.js';
import type { StackMemberKind } from '../spec/index.js';

export interface GraphNode {
  id: string;
  kind: StackMemberKind;
  dependsOn: readonly string[];
}

export interface StackGraph {
  /** Levels in apply order; within a level, sorted by name. */
  order: string[][];
  /** `from` depends on `to` (to is made first). */
  edges: Array<{ from: string; to: string }>;
  kinds: Record<string, StackMemberKind>;
}

/** Finds one cycle among `nodes` (ids in order, the first repeated at the end), or undefined. */
function findCycle(nodes: readonly GraphNode[]): string[] | undefined {
  const deps = new Map(nodes.map((n) => [n.id, [...n.dependsOn].sort()]));
  const color = new Map<string, 'grey' | 'black'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    color.set(id, 'grey');
    stack.push(id);
    for (const d of deps.get(id) ?? []) {
      if (color.get(d) === 'grey') return [...stack.slice(stack.indexOf(d)), d];
      if (!color.has(d)) {
        const c = visit(d);
        if (c) return c;
      }
    }
    stack.pop();
    color.set(id, 'black');
    return undefined;
  };
  for (const n of [...nodes].sort((a, b) => a.id.localeCompare(b.id))) {
    if (!color.has(n.id)) {
      const c = visit(n.id);
      if (c) return c;
    }
  }
  return undefined;
}

/** Orders `nodes` by their dependencies; unknown ids must have been refused before. Throws STACK_CYCLE. */
export function buildGraph(nodes: readonly GraphNode[]): StackGraph {
  const cycle = findCycle(nodes);
  if (cycle) {
    fail('STACK_CYCLE', `depends_on has a cycle: ${cycle.join(' → ')}`, { details: { cycle } });
  }
  const remaining = new Map(nodes.map((n) => [n.id, new Set(n.dependsOn)]));
  const order: string[][] = [];
  while (remaining.size > 0) {
    const level = [...remaining].filter(([, d]) => d.size === 0).map(([id]) => id).sort();
    for (const id of level) remaining.delete(id);
    for (const d of remaining.values()) for (const id of level) d.delete(id);
    order.push(level);
  }
  const edges = nodes.flatMap((n) => [...new Set(n.dependsOn)].sort().map((to) => ({ from: n.id, to })));
  return { order, edges, kinds: Object.fromEntries(nodes.map((n) => [n.id, n.kind])) };
}

/** The levels as text: `1. network back` / `2. vm db (after back)`. */
export function graphText(g: StackGraph): string {
  const after = new Map<string, string[]>();
  for (const e of g.edges) after.set(e.from, [...(after.get(e.from) ?? []), e.to]);
  const lines: string[] = [];
  g.order.forEach((level, i) => {
    for (const id of level) {
      const deps = after.get(id);
      lines.push(`${i + 1}. ${g.kinds[id]} ${id}${deps ? ` (after ${deps.join(', ')})` : ''}`);
    }
  });
  return lines.join('\n');
}

const q = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;

/** Graphviz DOT: an arrow from each member to what it depends on would read backwards; arrows point in apply order. */
export function graphDot(g: StackGraph, name: string): string {
  const shape: Record<StackMemberKind, string> = { vm: 'box', network: 'ellipse', volume: 'cylinder' };
  const lines = [`digraph ${q(name)} {`, '  rankdir=LR;'];
  for (const level of g.order) for (const id of level) lines.push(`  ${q(id)} [shape=${shape[g.kinds[id]!]}];`);
  for (const e of g.edges) lines.push(`  ${q(e.to)} -> ${q(e.from)};`);
  lines.push('}');
  return lines.join('\n');
}

/** Every member that depends on `id`, directly or not. */
export function dependantsOf(g: StackGraph, id: string): Set<string> {
  const out = new Set<string>();
  const walk = (x: string): void => {
    for (const e of g.edges) if (e.to === x && !out.has(e.from)) { out.add(e.from); walk(e.from); }
  };
  walk(id);
  return out;
}
