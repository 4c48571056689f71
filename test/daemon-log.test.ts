/**
 * The daemon's log on a terminal: run polyvisord in a pseudo-terminal (`script` from util-linux)
 * and check that it writes short human lines there, JSON when told, and never a secret.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PolyvisorClient } from '../src/client/index.js';
import { ROOT, tempStateDir } from './helpers/daemon.js';
import { limit } from './helpers/limits.js';
import { guestSpec } from './helpers/vm.js';

/** Single-quotes one word for the shell `script -c` runs (only this test's own paths and flags reach it). */
const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

interface PtyDaemon {
  child: ChildProcess;
  output: () => string;
  client: PolyvisorClient;
  stop: () => Promise<void>;
}

const started: PtyDaemon[] = [];
afterEach(async () => {
  for (const d of started.splice(0)) await d.stop();
});

async function daemonInPty(extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<PtyDaemon> {
  const stateDir = tempStateDir('log');
  const argv = [process.execPath, path.join(ROOT, 'bin', 'polyvisord.js'), '--state-dir', stateDir, '--listen', 'off', '--accel', 'tcg', ...extra];
  const child = spawn('script', ['-qfec', `exec ${argv.map(shq).join(' ')}`, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    // POLYVISOR_DEFAULT_NETWORK=0: no default network (bridge, dnsmasq, nft rules) in the test runner's namespace.
    env: { ...process.env, TERM: 'xterm', NO_COLOR: '1', POLYVISOR_LOG_FORMAT: '', POLYVISOR_DEFAULT_NETWORK: '0', ...env },
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const info = path.join(stateDir, 'daemon.json');
  const deadline = Date.now() + limit('daemon');
  while (!existsSync(info)) {
    if (child.exitCode !== null) throw new Error(`script/polyvisord exited ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`polyvisord in a pty did not become ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const { socket, pid } = JSON.parse(readFileSync(info, 'utf8')) as { socket: string; pid: number };
  const d: PtyDaemon = {
    child,
    output: () => out.replace(/\r/g, ''),
    client: new PolyvisorClient({ endpoint: { socketPath: socket } }),
    stop: async () => {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      await exited;
    },
  };
  started.push(d);
  return d;
}

/** Waits until the output matches `re` (the pty delivers lines asynchronously). */
async function waitOutput(d: PtyDaemon, re: RegExp): Promise<string> {
  const deadline = Date.now() + limit('daemon');
  while (!re.test(d.output())) {
    if (Date.now() > deadline) throw new Error(`no ${re} in:\n${d.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return d.output();
}

const LINE = /^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S/;

describe('daemon log on a terminal', () => {
  it('writes short human lines: time, level, component, message, a few fields; one line a request', async () => {
    const d = await daemonInPty();
    await d.client.createVm(guestSpec('logvm'));
    await d.client.listVms();
    await d.stop();
    const lines = (await waitOutput(d, /shutting down/)).split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) expect(l, l).toMatch(LINE);
    expect(lines.some((l) => l.startsWith('{'))).toBe(false);
    expect(lines).toContainEqual(expect.stringMatching(/ INFO {2}lifecycle: vm created vm=logvm /));
    expect(lines).toContainEqual(expect.stringMatching(/ INFO {2}api: POST \/v1\/vms 201 \(\d+ ms\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/ INFO {2}api: GET \/v1\/vms 200 \(\d+ ms\)$/));
    expect(lines.some((l) => l.includes('incoming request'))).toBe(false);
    expect(lines).toContainEqual(expect.stringMatching(/ INFO {2}shutting down; VMs keep running signal=SIGTERM$/));
  });

  it('writes JSON on a terminal with --log-format json, and text with POLYVISOR_LOG_FORMAT=text', async () => {
    const j = await daemonInPty(['--log-format', 'json']);
    await j.stop();
    const jl = j.output().split('\n').filter((l) => l.trim() !== '');
    expect(jl.length).toBeGreaterThan(3);
    for (const l of jl) expect(() => JSON.parse(l) as unknown, l).not.toThrow();

    const t = await daemonInPty([], { POLYVISOR_LOG_FORMAT: 'text' });
    await t.stop();
    for (const l of t.output().split('\n').filter((x) => x.trim() !== '')) expect(l).toMatch(LINE);
  });

  it('refuses an unknown log format, naming the key', async () => {
    const stateDir = tempStateDir('log');
    const p = spawn(process.execPath, [path.join(ROOT, 'bin', 'polyvisord.js'), '--state-dir', stateDir, '--listen', 'off', '--log-format', 'xml'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((r) => p.once('exit', r));
    expect(code).toBe(1);
    expect(err).toMatch(/logFormat/);
  });
});
