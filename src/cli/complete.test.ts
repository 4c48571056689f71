import { describe, expect, it } from 'vitest';
import type { GlobalOptions } from './context.js';
import { complete, parseWords } from './complete.js';
import { completionScript } from './completion-scripts.js';
import { buildProgram } from './program.js';

const tree = () => buildProgram(() => {});
const seen: Array<{ globals: GlobalOptions; what: string }> = [];
const sources = (globals: GlobalOptions) => ({
  vms: async () => (seen.push({ globals, what: 'vms' }), ['alpha', 'alpine', 'beta']),
  snapshots: async (vm: string) => (seen.push({ globals, what: `snapshots:${vm}` }), vm === 'alpha' ? ['s1', 's2'] : []),
  pools: async () => ['default', 'fast'],
  remotes: async () => ['local', 'far'],
});
const c = (...words: string[]) => complete(tree(), words, sources);

describe('completion', () => {
  it('offers verbs, then sub-verbs, by prefix, never hidden ones', async () => {
    expect(await c('')).toEqual(expect.arrayContaining(['vm', 'pool', 'snapshot', 'completion']));
    expect(await c('')).not.toContain('__complete');
    expect(await c('sn')).toEqual(['snapshot']);
    expect(await c('vm', 'st')).toEqual(['start', 'stop']);
    expect(await c('op', 'l')).toEqual(['list']);
  });

  it('offers the flags of the command and of the program', async () => {
    const flags = await c('vm', 'stop', '--');
    expect(flags).toEqual(expect.arrayContaining(['--timeout', '--force', '--label', '--socket', '--help']));
    expect(await c('vm', 'stop', '--ti')).toEqual(['--timeout']);
  });

  it('offers VM names where a VM is named, and none where a new name goes', async () => {
    expect(await c('vm', 'start', 'al')).toEqual(['alpha', 'alpine']);
    expect(await c('console', '')).toEqual(['alpha', 'alpine', 'beta']);
    expect(await c('vm', 'clone', '')).toEqual(['alpha', 'alpine', 'beta']);
    expect(await c('vm', 'clone', 'alpha', '')).toEqual([]);
    expect(await c('vm', 'create', '')).toEqual([]);
    expect(await c('backup', 'create', 'b')).toEqual(['beta']);
    expect(await c('operation', 'list', '--vm', '')).toEqual(['alpha', 'alpine', 'beta']);
  });

  it('offers snapshots of the VM given, pools and remotes', async () => {
    expect(await c('snapshot', 'rm', 'alpha', '')).toEqual(['s1', 's2']);
    expect(await c('snapshot', 'revert', 'beta', '')).toEqual([]);
    expect(await c('snapshot', 'create', 'alpha', '')).toEqual([]);
    expect(await c('volume', 'list', 'f')).toEqual(['fast']);
    expect(await c('pool', 'rm', '')).toEqual(['default', 'fast']);
    expect(await c('--remote', '')).toEqual(['local', 'far']);
    expect(await c('remote', 'default', 'f')).toEqual(['far']);
  });

  it('asks the daemon the global options name, skipping option values', async () => {
    seen.length = 0;
    await c('--socket', '/run/a.sock', 'vm', 'show', '');
    expect(seen).toEqual([{ globals: { socket: '/run/a.sock' }, what: 'vms' }]);
    const p = parseWords(tree(), ['--url=http://h:1', 'vm', 'stop', '-t', '5', 'web', '']);
    expect(p.path).toEqual(['vm', 'stop']);
    expect(p.args).toEqual(['web']);
    expect(p.globals).toEqual({ url: 'http://h:1' });
  });

  it('has a script for each shell that calls __complete', () => {
    for (const sh of ['bash', 'zsh', 'fish'] as const) expect(completionScript(sh)).toContain('__complete --');
  });
});
