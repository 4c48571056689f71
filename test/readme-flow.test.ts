/**
 * The README's "Using it" section, run as a new user would: scripts/demo.sh on
 * a fresh state directory and free ports, then every command of the section's
 * `sh` blocks in order, in one bash session (so `export` and `G=…` carry over),
 * with `polyvisor` on PATH as bin/polyvisor.js. Any command's error fails the
 * test, naming the command and showing its output. Blocks marked
 * `sh interactive` (console, a second host, event streams) are only parsed:
 * each command runs with --help.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type Demo } from './helpers/demo.js';
import { ROOT } from './helpers/daemon.js';
import { runCli } from './helpers/http.js';
import { limit } from './helpers/limits.js';

/** The commands of the "Using it" section: `sh` blocks are run, `sh interactive` blocks only parsed. */
function usingItCommands(readme: string): { run: string[]; parseOnly: string[] } {
  const start = readme.indexOf('\n## Using it\n');
  if (start < 0) throw new Error('README has no "## Using it" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const run: string[] = [];
  const parseOnly: string[] = [];
  for (const m of section.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const info = m[1]!.trim();
    const lines = m[2]!.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    if (info === 'sh') run.push(...lines);
    else if (info === 'sh interactive') parseOnly.push(...lines);
  }
  return { run, parseOnly };
}

/** A bash script running each command in this shell, its output to DIR/N.log; stops at the first failure, writing N and its exit code to DIR/failed. */
function flowScript(commands: string[], dir: string): string {
  const parts = ['set -o pipefail', 'cd "$README_ROOT"'];
  commands.forEach((c, i) => {
    parts.push(`{\n${c}\n} >"${dir}/${i}.log" 2>&1`, `rc=$?; if [ $rc -ne 0 ]; then echo "${i} $rc" >"${dir}/failed"; exit 1; fi`);
  });
  return `${parts.join('\n')}\n`;
}

/** This process's environment without any POLYVISOR_* setting (a new user's shell has none), plus `extra`. */
function userEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('POLYVISOR_')));
  return { ...env, ...extra };
}

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const { run, parseOnly } = usingItCommands(readme);
let demo: Demo | undefined;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pv-readme-'));
  demo = await startDemo();
  await demo.ready;
});
afterAll(async () => {
  await demo?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('README "Using it"', () => {
  it('has runnable commands that start from the demo state directory', () => {
    expect(run.length).toBeGreaterThan(10);
    expect(run[0]).toMatch(/^export POLYVISOR_STATE_DIR=\$PWD\/\.state\/demo\b/);
    expect(readFileSync(path.join(ROOT, 'scripts', 'demo.sh'), 'utf8')).toContain('STATE=${POLYVISOR_STATE_DIR:-$PWD/.state/demo}');
    expect(parseOnly.length).toBeGreaterThan(0);
  });

  it('runs every command in order against the demo without an error', async () => {
    const bin = path.join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'polyvisor'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'bin', 'polyvisor.js')}" "$@"\n`);
    chmodSync(path.join(bin, 'polyvisor'), 0o755);
    const logs = path.join(work, 'logs');
    mkdirSync(logs);
    // the one substitution: the demo of this test keeps its state in its own directory, not .state/demo
    const commands = run.map((c) => c.replace('$PWD/.state/demo', demo!.stateDir));
    writeFileSync(path.join(work, 'flow.sh'), flowScript(commands, logs));
    const p = spawn('bash', [path.join(work, 'flow.sh')], {
      stdio: 'ignore',
      env: userEnv({ PATH: `${bin}:${process.env['PATH']}`, README_ROOT: ROOT }),
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), limit('operation', 8));
    const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    clearTimeout(timer);
    const logOf = (i: number) => readFileSync(path.join(logs, `${i}.log`), 'utf8');
    let failed = '';
    try {
      failed = readFileSync(path.join(logs, 'failed'), 'utf8').trim();
    } catch {
      /* none failed */
    }
    if (failed) {
      const [i, rc] = failed.split(' ').map(Number);
      expect.fail(`README command ${i! + 1} of ${run.length} failed (exit ${rc}): ${run[i!]}\n${logOf(i!)}`);
    }
    expect(code, 'the README flow did not finish in time').toBe(0);
    // what the commands printed: the demo VM listed, its snapshot and backup made, the web VM's page served
    const at = (re: RegExp) => run.findIndex((c) => re.test(c));
    expect(logOf(at(/^polyvisor vm list/))).toMatch(/\bdemo\b.*\brunning\b/);
    expect(logOf(at(/^polyvisor snapshot create demo/))).toMatch(/created/);
    expect(logOf(at(/^polyvisor backup create demo/))).toMatch(/full/);
    expect(logOf(at(/^curl /))).toContain('polyvisor-guest web');
    expect(logOf(at(/^polyvisor vm stop web/))).toMatch(/stopped/);
    expect(JSON.parse(logOf(at(/^polyvisor spec schema/)))).toHaveProperty('properties');
    const left = (await demo!.client().listVms()).map((v) => `${v.name}:${v.state}`);
    expect(left).toEqual(['demo:running']);
  });

  it('parses every interactive command (--help)', async () => {
    for (const c of parseOnly) {
      const words = c.replace(/\s#.*$/, '').trim().split(/\s+/);
      expect(words[0]).toBe('polyvisor');
      const r = await runCli([...words.slice(1), '--help']);
      expect(r.code, `${c}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/^Usage: polyvisor /);
    }
  });
});
