/**
 * Runs scripts/demo.sh as a user would (its own state directory, a free
 * listener port and a free port for the demo VM's web page), and stops it by
 * PID: the demo's VMs are removed, then the script (its trap stops the daemon).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PolyvisorClient } from '../../src/client/index.js';
import { killQemusUnder, qemuUidEnvFor, ROOT, tempStateDir } from './daemon.js';
import { freePort } from './http.js';
import { limit } from './limits.js';

export const BANNER_START = 'Polyvisor is running.';

export interface Demo {
  stateDir: string;
  /** The script's PID (bash). */
  pid: number;
  webPort: number;
  output: () => string;
  client: () => PolyvisorClient;
  /** Types into the script's standard input (its terminal, when run under `script`). */
  write: (text: string) => void;
  /** Resolves when the script has printed its banner; rejects if it exits first or takes too long. */
  ready: Promise<void>;
  stop: () => Promise<void>;
}

/**
 * Starts the demo; `command` replaces the plain `bash scripts/demo.sh` (a pty test wraps it in `script`).
 * Setup is skipped (POLYVISOR_SKIP_SETUP=1): the run's own setup built everything.
 */
export async function startDemo(o: { env?: NodeJS.ProcessEnv; command?: (script: string) => [string, string[]] } = {}): Promise<Demo> {
  const stateDir = tempStateDir('demo');
  const webPort = await freePort();
  const script = path.join(ROOT, 'scripts', 'demo.sh');
  const [cmd, args] = o.command ? o.command(script) : ['bash', [script]];
  const child: ChildProcess = spawn(cmd, args, {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env, POLYVISOR_STATE_DIR: stateDir, POLYVISOR_LISTEN: `127.0.0.1:${await freePort()}`,
      POLYVISOR_DEMO_WEB_PORT: String(webPort), POLYVISOR_SKIP_SETUP: '1', POLYVISOR_LOG_FORMAT: '', POLYVISOR_DEFAULT_NETWORK: '0', ...qemuUidEnvFor(stateDir, o.env).env, ...o.env, // its own QEMU uid range (helpers/daemon.ts); no bridge in the test runner's namespace
    },
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const socket = path.join(stateDir, 'polyvisord.sock');
  const client = () => new PolyvisorClient({ endpoint: { socketPath: socket } });
  const ready = (async () => {
    const deadline = Date.now() + limit('daemon') + limit('boot');
    while (!out.includes(BANNER_START) || !/Stop: .*\n/.test(out.replace(/\r/g, ''))) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`demo.sh exited (${child.exitCode ?? child.signalCode}) before its banner:\n${out}`);
      if (Date.now() > deadline) throw new Error(`demo.sh printed no banner in time:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  ready.catch(() => undefined);
  const stop = async () => {
    if (existsSync(socket)) {
      const c = client();
      for (const v of await c.listVms().catch(() => [])) await c.removeVm(v.name, { force: true }).catch(() => undefined);
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    // the script's trap stopped its daemon; if the script was already gone, stop the daemon it left by its PID
    const info = path.join(stateDir, 'daemon.json');
    if (existsSync(info)) {
      const { pid } = JSON.parse(readFileSync(info, 'utf8')) as { pid: number };
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    killQemusUnder(stateDir);
  };
  return { stateDir, pid: child.pid!, webPort, write: (t) => void child.stdin!.write(t), output: () => out.replace(/\r/g, ''), client, ready, stop };
}
