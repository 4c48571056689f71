import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseStackText, resolveStack } from './resolve.js';

const read = (f: string) => parseStackText(readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8'));

describe('the example stack files', () => {
  it('examples/stack.yaml: db, then two app VMs', () => {
    const d = resolveStack(read('stack.yaml'));
    expect(d.vms.map((v) => v.name)).toEqual(['db', 'app-1', 'app-2']);
    expect(d.graph.order).toEqual([['db'], ['app']]);
  });

  it('examples/stacks/three-tier.yaml: networks and the volume first, then db, the app servers, the load balancer', () => {
    const d = resolveStack(read('stacks/three-tier.yaml'), { image: '/srv/images/base.qcow2' });
    expect(d.graph.order).toEqual([['back', 'dbdata', 'front'], ['db'], ['app'], ['lb']]);
    expect(d.vms.map((v) => v.name)).toEqual(['db', 'shop-app-1', 'shop-app-2', 'lb']);
    expect(() => resolveStack(read('stacks/three-tier.yaml'))).toThrow(/variable image has no default/);
  });

  it('examples/stacks/lab.yaml: a counted member sized by a variable', () => {
    const d = resolveStack(read('stacks/lab.yaml'), { size: '8' });
    expect(d.vms.map((v) => v.name)).toHaveLength(8);
    expect(d.vms[7]!.spec.boot.cmdline).toBe('console=ttyS0 hostname=lab-8');
  });
});
