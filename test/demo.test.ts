/**
 * scripts/demo.sh as a user meets it: in a terminal (a pty from `script`) its
 * banner is the last thing printed and Ctrl-C stops it; a taken port is named
 * at once with nothing started; and the build stamp of scripts/setup.sh
 * (scripts/build-if-changed.sh) builds again only when an input changed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BANNER_START, startDemo, type Demo } from './helpers/demo.js';
import { processesUnder, ROOT, tempStateDir } from './helpers/daemon.js';
import { limit } from './helpers/limits.js';

/** Single-quotes one word for the shell `script -c` runs (only this test's own paths reach it). */
const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const nonEmpty = (text: string) => text.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');

const demos: Demo[] = [];
afterAll(async () => {
  for (const d of demos) await d.stop();
});

describe('scripts/demo.sh in a terminal', () => {
  it('ends with a clean banner (URL, admin token file, demo VM, log, how to stop) that no log line follows; Ctrl-C stops the daemon', async () => {
    const d = await startDemo({ command: (script) => ['script', ['-qfec', `exec bash ${shq(script)}`, '/dev/null']] });
    demos.push(d);
    await d.ready;
    // the daemon goes on working (requests, VM events): none of it may reach the terminal
    const c = d.client();
    for (let i = 0; i < 5; i++) await c.listVms();
    await c.getVm('demo');
    await new Promise((r) => setTimeout(r, 1_000));
    const lines = nonEmpty(d.output());
    const at = lines.findIndex((l) => l === BANNER_START);
    const banner = lines.slice(at);
    expect(banner.at(-1), 'the banner is the last thing printed').toMatch(/^ {2}Stop: +Ctrl-C stops the daemon/);
    const info = JSON.parse(readFileSync(path.join(d.stateDir, 'daemon.json'), 'utf8')) as { url: string; pid: number };
    const field = (name: string) => banner.find((l) => l.startsWith(`  ${name}:`)) ?? '';
    expect(field('Web UI')).toContain(`${info.url}/`);
    const tokenFile = path.join(d.stateDir, 'web-admin.token');
    expect(field('Admin token')).toContain(tokenFile);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(tokenFile, 'utf8').trim().length).toBeGreaterThan(20);
    expect(field('Demo VM')).toMatch(/^ {2}Demo VM: +demo +\(its web server: http:\/\/127\.0\.0\.1:\d+\/\)/);
    expect(field('Daemon log')).toContain(path.join(d.stateDir, 'daemon.log'));
    expect(field('Stop')).toMatch(/vm stop demo/);
    // everything before the banner: a few [demo]/[setup] lines, no JSON log, no stack trace
    expect(lines.length).toBeLessThan(25);
    expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
    expect(lines.filter((l) => /^\s+at /.test(l))).toEqual([]);
    // the daemon's log went to the file, as text lines
    const log = nonEmpty(readFileSync(path.join(d.stateDir, 'daemon.log'), 'utf8')).filter((l) => !l.startsWith('---'));
    expect(log.length).toBeGreaterThan(5);
    for (const l of log) expect(l).toMatch(/^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) /);
    expect(log).toContainEqual(expect.stringMatching(/api: GET \/v1\/vms 200/));
    expect((await c.getVm('demo')).state).toBe('running');

    // Ctrl-C in the terminal: the script ends and its daemon with it; the VM keeps running
    d.write('\x03');
    const deadline = Date.now() + limit('daemon');
    while (pidAlive(info.pid) || pidAlive(d.pid)) {
      if (Date.now() > deadline) throw new Error(`Ctrl-C did not stop the demo:\n${d.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(processesUnder(d.stateDir).length, 'the demo VM keeps running').toBeGreaterThan(0);
  });
});

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('scripts/demo.sh with its port taken', () => {
  it('names the port and POLYVISOR_LISTEN, prints no stack trace and starts nothing', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen({ host: '127.0.0.1', port: 0 }, r));
    const port = (holder.address() as AddressInfo).port;
    const stateDir = path.join(tempStateDir('demo'), 'state');
    try {
      const p = spawn('bash', [path.join(ROOT, 'scripts', 'demo.sh')], {
        cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, POLYVISOR_STATE_DIR: stateDir, POLYVISOR_LISTEN: `127.0.0.1:${port}` },
      });
      let out = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString()));
      p.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const code = await new Promise<number | null>((r) => p.once('exit', r));
      expect(code).toBe(1);
      expect(nonEmpty(out)).toHaveLength(1);
      expect(out).toContain(`cannot listen on 127.0.0.1:${port}: the port is already in use`);
      expect(out).toContain('POLYVISOR_LISTEN=');
      expect(out).not.toMatch(/^\s+at /m);
      expect(out).not.toContain('[setup]');
      expect(existsSync(stateDir), 'nothing was started: no state directory').toBe(false);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });
});

describe('build stamp (scripts/build-if-changed.sh)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A copy of the build inputs whose `npm run build` only counts its runs and writes the outputs. */
  function inputsCopy(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-stamp-'));
    dirs.push(dir);
    for (const f of ['src', 'web/src', 'web/index.html', 'web/tsconfig.json', 'web/vite.config.ts', 'scripts/build-cli.mjs', 'scripts/build-web.mjs', 'scripts/build-if-changed.sh', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json']) {
      cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true, preserveTimestamps: true });
    }
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    pkg.scripts['build'] = 'mkdir -p dist/daemon dist/cli dist/web && touch dist/daemon/main.js dist/cli/main.js dist/web/index.html && echo built >> builds.txt';
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
    return dir;
  }
  const build = (dir: string) => {
    const r = spawnSync('bash', [path.join(dir, 'scripts', 'build-if-changed.sh')], { encoding: 'utf8', timeout: limit('daemon') });
    expect(r.status, r.stderr).toBe(0);
    return { said: r.stderr.trim(), builds: existsSync(path.join(dir, 'builds.txt')) ? nonEmpty(readFileSync(path.join(dir, 'builds.txt'), 'utf8')).length : 0 };
  };

  it('builds the first time, not again when nothing changed, again after an edit, a touch, a new file or a lost output', () => {
    const dir = inputsCopy();
    expect(build(dir)).toMatchObject({ builds: 1, said: '[setup] building TypeScript and the web UI (dist/)' });
    expect(build(dir)).toEqual({ builds: 1, said: '[setup] build is current (no build input changed since the last build)' });
    expect(build(dir).builds).toBe(1);

    const file = path.join(dir, 'src', 'shared', 'version.ts');
    writeFileSync(file, `${readFileSync(file, 'utf8')}// edited\n`);
    expect(build(dir).builds).toBe(2);
    expect(build(dir).builds).toBe(2);

    const later = new Date(Date.now() + 5_000);
    utimesSync(path.join(dir, 'web', 'index.html'), later, later);
    expect(build(dir).builds).toBe(3);

    mkdirSync(path.join(dir, 'src', 'extra'));
    writeFileSync(path.join(dir, 'src', 'extra', 'new.ts'), 'export const x = 1;\n');
    expect(build(dir).builds).toBe(4);

    rmSync(path.join(dir, 'dist', 'web', 'index.html'));
    expect(build(dir).builds).toBe(5);
    expect(build(dir).builds).toBe(5);
  });
});
