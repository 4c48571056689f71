/** Method B: the exact QEMU argv the daemon used, with its per-VM paths moved to a scratch dir. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { alive, qemusMentioning, sleep } from './proc.js';

export interface RawCommand {
  argv: string[];
  /** What had to change besides paths (reported in the doc). */
  notes: string[];
}

/** Rewrites every occurrence of `fromDir` to `toDir`. Pure. */
export function rewriteArgv(argv: string[], fromDir: string, toDir: string): RawCommand {
  const notes: string[] = [];
  const out = argv.map((a) => a.split(fromDir).join(toDir));
  if (out.includes('-S')) notes.push('the daemon starts QEMU with -S (paused) and resumes it over QMP; raw runs also pass -S and are resumed over QMP');
  return { argv: out, notes };
}

export function optionValue(argv: string[], flag: string): string | null {
  const i = argv.indexOf(flag);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : null;
}

export interface RawStarted {
  pid: number;
  /** performance.now() when the spawned command returned (QEMU with -daemonize exits once set up). */
  returnedAt: number;
}

/** Spawns the command; with -daemonize waits for the foreground process to exit 0. */
export async function spawnRaw(cmd: RawCommand, scratch: string): Promise<RawStarted> {
  const [bin, ...args] = cmd.argv;
  const child = spawn(bin!, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  if (!cmd.argv.includes('-daemonize')) {
    child.unref();
    return { pid: child.pid!, returnedAt: performance.now() };
  }
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const returnedAt = performance.now();
  if (code !== 0) throw new Error(`raw QEMU exited ${code}: ${stderr.trim()}`);
  const pidfile = optionValue(cmd.argv, '-pidfile');
  for (let i = 0; i < 200; i++) {
    const pid = pidfile ? Number(readFileSync(pidfile, 'utf8').trim()) : qemusMentioning(scratch)[0];
    if (pid && alive(pid)) return { pid, returnedAt };
    await sleep(5);
  }
  throw new Error('raw QEMU daemonized but its PID could not be found');
}
