import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { buildGraph, dependantsOf, graphDot, graphText } from './graph.js';

describe('stack graph', () => {
  const g = buildGraph([
    { id: 'app', kind: 'vm', dependsOn: ['db', 'back'] },
    { id: 'db', kind: 'vm', dependsOn: ['back', 'data'] },
    { id: 'back', kind: 'network', dependsOn: [] },
    { id: 'data', kind: 'volume', dependsOn: [] },
    { id: 'lb', kind: 'vm', dependsOn: ['app'] },
  ]);

  it('orders members in levels, each depending only on earlier ones', () => {
    expect(g.order).toEqual([['back', 'data'], ['db'], ['app'], ['lb']]);
    expect([...dependantsOf(g, 'db')].sort()).toEqual(['app', 'lb']);
  });

  it('draws the order as text and as DOT', () => {
    expect(graphText(g)).toBe([
      '1. network back',
      '1. volume data',
      '2. vm db (after back, data)',
      '3. vm app (after back, db)',
      '4. vm lb (after app)',
    ].join('\n'));
    const dot = graphDot(g, 'shop');
    expect(dot).toContain('digraph "shop" {');
    expect(dot).toContain('"db" -> "app";');
    expect(dot).toContain('"data" [shape=cylinder];');
  });

  it('refuses a cycle, naming it', () => {
    let err: unknown;
    try {
      buildGraph([
        { id: 'a', kind: 'vm', dependsOn: ['b'] },
        { id: 'b', kind: 'vm', dependsOn: ['c'] },
        { id: 'c', kind: 'vm', dependsOn: ['a'] },
        { id: 'd', kind: 'vm', dependsOn: [] },
      ]);
    } catch (e) {
      err = e;
    }
    expect(isPolyvisorError(err, 'STACK_CYCLE')).toBe(true);
    expect((err as Error).message).toBe('depends_on has a cycle: a → b → c → a');
  });
});
