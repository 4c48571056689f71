import { describe, expect, it } from 'vitest';
import { isPolyvisorError, type PolyvisorError } from '../shared/index.js';
import { parseStackText, resolveStack } from './resolve.js';
import { stackJsonSchema } from './schema.js';

const boot = { boot: { kernel: '/k' } };

function caught(fn: () => unknown): PolyvisorError {
  try {
    fn();
  } catch (err) {
    if (isPolyvisorError(err)) return err;
    throw err;
  }
  throw new Error('expected a PolyvisorError');
}

describe('stack file schema', () => {
  it('expands a counted member with its name pattern and labels every VM with the stack and member', () => {
    const d = resolveStack({ name: 'lab', labels: { team: 'qa' }, vms: { node: { count: 3, name: 'node-{n}', spec: { ...boot, description: 'node {n}' } } } });
    expect(d.vms.map((v) => v.name)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(d.vms[1]!.spec.description).toBe('node 2');
    expect(d.vms[0]!.spec.labels).toEqual({ team: 'qa', 'polyvisor.stack': 'lab', 'polyvisor.stack.member': 'node' });
    expect(resolveStack({ name: 'lab', vms: { web: { count: 2, spec: boot } } }).vms.map((v) => v.name)).toEqual(['web-1', 'web-2']);
  });

  it('refuses unknown fields, a wrong version and a bad VM spec, each with its path in the file', () => {
    const unknown = caught(() => resolveStack({ name: 's', vms: { a: { spec: boot, colour: 'red' } } }));
    expect(unknown.code).toBe('STACK_INVALID');
    expect(unknown.details).toEqual([{ field: 'vms.a.colour', message: 'is not a known field' }]);
    const version = caught(() => resolveStack({ version: 2, name: 's' }));
    expect(version.code).toBe('STACK_INVALID');
    expect(version.message).toContain('version 2');
    const spec = caught(() => resolveStack({ name: 's', vms: { a: { spec: { ...boot, memory: 'lots' } } } }));
    expect(spec.details).toEqual([{ field: 'vms.a.spec.memory', message: 'memory must look like 512Mi, 2Gi or 262084Ki' }]);
  });

  it('names an unknown depends_on with its path, and refuses a member name used twice across kinds', () => {
    const e = caught(() => resolveStack({ name: 's', vms: { app: { spec: boot, depends_on: ['db'] } } }));
    expect(e.details).toEqual([{ field: 'vms.app.depends_on.0', message: 'db is not a member of the stack' }]);
    const twice = caught(() => resolveStack({ name: 's', networks: { db: { mode: 'isolated' } }, vms: { db: { spec: boot } } }));
    expect(twice.message).toContain('member name db is also a network');
  });

  it('needs exactly one of spec or from; from is the CLI\'s to read', () => {
    expect(caught(() => resolveStack({ name: 's', vms: { a: {} } })).details).toEqual([{ field: 'vms.a.spec', message: 'give exactly one of spec (inline) or from (a spec file)' }]);
    expect(caught(() => resolveStack({ name: 's', vms: { a: { from: 'a.yaml' } } })).message).toContain('from: FILE is read by the CLI');
  });

  it('a VM on a stack network depends on it without saying so', () => {
    const d = resolveStack({ name: 's', networks: { back: { mode: 'isolated' } }, vms: { db: { spec: { ...boot, networks: [{ network: 'back' }] } } } });
    expect(d.graph.order).toEqual([['back'], ['db']]);
  });

  it('parses YAML text and refuses what is not a mapping', () => {
    expect(parseStackText('name: s\nvms: {}\n')).toEqual({ name: 's', vms: {} });
    expect(caught(() => parseStackText('- a\n')).code).toBe('STACK_INVALID');
    expect(caught(() => parseStackText('name: [\n')).code).toBe('STACK_INVALID');
  });

  it('exports a JSON Schema of the stack file', () => {
    const s = stackJsonSchema();
    expect(s['title']).toBe('Polyvisor stack file v1');
    expect(Object.keys(s['properties'] as object)).toEqual(expect.arrayContaining(['vms', 'networks', 'volumes', 'variables']));
  });
});

describe('variables', () => {
  const doc = { name: 's', variables: { mem: '256Mi', n: 2, tag: { description: 'no default' } }, vms: { web: { count: '${var.n}', spec: { ...boot, memory: '${var.mem}' } } } };

  it('takes defaults, and --var values in the type of the default', () => {
    const d = resolveStack({ ...doc, variables: { ...doc.variables, tag: 'x' } });
    expect(d.vms).toHaveLength(2);
    expect(d.vms[0]!.spec.memory).toBe(256 * 1024 ** 2);
    const g = resolveStack({ ...doc, variables: { ...doc.variables, tag: 'x' } }, { n: '3', mem: '512Mi' });
    expect(g.vms).toHaveLength(3);
    expect(g.vms[2]!.spec.memory).toBe(512 * 1024 ** 2);
  });

  it('splices a variable into a longer string', () => {
    const d = resolveStack({ name: 's', variables: { env: 'prod' }, vms: { a: { spec: { ...boot, description: 'the ${var.env} box' } } } });
    expect(d.vms[0]!.spec.description).toBe('the prod box');
  });

  it('names a variable used and never given, one never declared, and a value for no variable', () => {
    const none = caught(() => resolveStack({ ...doc, vms: { a: { spec: { ...boot, description: '${var.tag}' } } } }));
    expect(none.details).toEqual([{ field: 'vms.a.spec.description', message: 'variable tag has no default and no value was given (--var tag=VALUE)' }]);
    const unknown = caught(() => resolveStack({ name: 's', vms: { a: { spec: { ...boot, description: '${var.nope}' } } } }));
    expect(unknown.details).toEqual([{ field: 'vms.a.spec.description', message: '${var.nope} names no variable of the stack (declare it under variables:)' }]);
    const extra = caught(() => resolveStack({ name: 's' }, { colour: 'red' }));
    expect(extra.details).toEqual([{ field: 'variables.colour', message: 'a value was given for colour, and the stack declares no such variable' }]);
  });
});
