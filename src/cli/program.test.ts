import { describe, expect, it } from 'vitest';
import { buildProgram, verbOf } from './program.js';

const names = (argv?: string[]) => buildProgram(() => {}, argv).commands.flatMap((c) => [c.name(), ...c.aliases()]);

describe('lazy command tree', () => {
  it('finds the verb past global options and their values', () => {
    expect(verbOf(['--socket', '/run/x.sock', 'vm', 'list'])).toBe('vm');
    expect(verbOf(['--json', '--remote', 'vm', 'pool', 'ls'])).toBe('pool');
    expect(verbOf(['--version'])).toBeNull();
    expect(verbOf(['-h'])).toBeUndefined();
    expect(verbOf(['vm', '--help'])).toBe('vm');
    expect(verbOf([])).toBeUndefined();
  });

  it('builds only the called verb\'s group', () => {
    expect(names(['vm', 'list']).sort()).toEqual(['vm']);
    expect(names(['--url', 'http://h:1', 'volume', 'list']).sort()).toEqual(['disk', 'image', 'pool', 'volume']);
    expect(names(['--version'])).toEqual([]);
    const vm = buildProgram(() => {}, ['vm', 'list']).commands[0]!;
    expect(vm.commands.map((c) => c.name())).toEqual(expect.arrayContaining(['list', 'show', 'start', 'migrate']));
  });

  it('builds everything for help, no verb or an unknown verb', () => {
    const all = names();
    expect(all).toEqual(expect.arrayContaining(['vm', 'pool', 'snapshot', 'backup', 'spec', 'console', 'doctor', 'top', 'completion']));
    expect(names(['--help'])).toEqual(all);
    expect(names(['frobnicate'])).toEqual(all);
  });

  it('every verb of the full tree, called alone, still finds its command', () => {
    for (const verb of names()) expect(names([verb]), verb).toContain(verb);
  });
});
