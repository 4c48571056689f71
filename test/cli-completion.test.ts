/**
 * Shell completion against a real daemon: the script `polyvisor completion bash` prints, loaded
 * into bash, asked through bash's own completion variables (COMP_WORDS / COMP_CWORD → COMPREPLY).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { guestSpec } from './helpers/vm.js';

const BIN = path.join(ROOT, 'bin', 'polyvisor.js');
let d: TestDaemon;
let script: string;
let configDir: string;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.once('error', reject);
    p.once('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 }));
  });
}

/** Completes the last of `words` (typed after the program name) the way bash does on Tab. */
async function bashComplete(words: string[], env: NodeJS.ProcessEnv = {}): Promise<{ reply: string[]; stderr: string; ms: number }> {
  // The words travel as bash's positional parameters, never as shell text.
  const prog = 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _polyvisor; printf "%s\\n" "${COMPREPLY[@]}"';
  const r = await run('bash', ['-c', prog, 'bash', script, BIN, ...words], {
    POLYVISOR_SOCKET: d.socket, POLYVISOR_CONFIG_DIR: configDir, ...env,
  });
  expect(r.code).toBe(0);
  return { reply: r.stdout.split('\n').filter(Boolean), stderr: r.stderr, ms: r.ms };
}

beforeAll(async () => {
  d = await startDaemon();
  for (const name of ['alpha', 'alpine', 'beta']) await d.client.createVm(guestSpec(name));
  const gen = await run(process.execPath, [BIN, 'completion', 'bash']);
  expect(gen.code).toBe(0);
  script = path.join(d.stateDir, 'completion.bash');
  writeFileSync(script, gen.stdout);
  configDir = path.join(tempStateDir('cfg'), 'polyvisor');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(path.join(configDir, 'remotes.json'), JSON.stringify({ remotes: { faraway: { url: 'http://127.0.0.1:1' } } }));
});

afterAll(async () => {
  await d?.stop();
});

describe('bash completion', () => {
  it('registers _polyvisor for polyvisor, with file names as the fallback', async () => {
    const r = await run('bash', ['-c', 'source "$1"; complete -p polyvisor', 'bash', script]);
    expect(r.stdout.trim()).toBe('complete -o default -F _polyvisor polyvisor');
  });

  it('completes verbs and flags from the command tree', async () => {
    expect((await bashComplete(['vm', 'st'])).reply).toEqual(['start', 'stop']);
    expect((await bashComplete(['snap'])).reply).toEqual(['snapshot']);
    expect((await bashComplete(['vm', 'stop', '--ti'])).reply).toEqual(['--timeout']);
    expect((await bashComplete(['vm', 'list', '--'])).reply).toEqual(expect.arrayContaining(['--label', '--json', '--socket']));
  });

  it('completes VM, pool and remote names from the daemon and the remotes file', async () => {
    expect((await bashComplete(['vm', 'start', 'al'])).reply).toEqual(['alpha', 'alpine']);
    expect((await bashComplete(['vm', 'show', ''])).reply).toEqual(['alpha', 'alpine', 'beta']);
    expect((await bashComplete(['--socket', d.socket, 'console', 'b'], { POLYVISOR_SOCKET: '' })).reply).toEqual(['beta']);
    expect((await bashComplete(['vm', 'create', ''])).reply).toEqual([]);
    expect((await bashComplete(['pool', 'rm', ''])).reply).toEqual(['default']);
    expect((await bashComplete(['--remote', ''])).reply).toEqual(['local', 'faraway']);
    expect((await bashComplete(['snapshot', 'rm', 'alpha', ''])).reply).toEqual([]);
  });

  it('is silent and quick when the daemon is not there', async () => {
    const r = await bashComplete(['vm', 'start', ''], { POLYVISOR_SOCKET: path.join(d.stateDir, 'no-such.sock') });
    expect(r.reply).toEqual([]);
    expect(r.stderr).toBe('');
    expect(r.ms).toBeLessThan(3_000);
  });

  it('prints a script for zsh and fish too, and refuses other shells', async () => {
    for (const sh of ['zsh', 'fish']) {
      const r = await run(process.execPath, [BIN, 'completion', sh]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('__complete --');
    }
    const bad = await run(process.execPath, [BIN, 'completion', 'tcsh']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/tcsh/);
  });
});
