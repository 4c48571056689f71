/** Child processes for the benchmark: argv arrays only, every process accounted for by PID. */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs a command to completion; SIGKILLs it (by PID) after `timeoutMs`. */
export function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like `run`, but throws with the command's stderr unless it exits 0. */
export async function runOk(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await run(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** True while `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/s.test(stat);
  } catch {
    return false;
  }
}

/** Sends `signal` to `pid` and waits until it is gone; escalates to SIGKILL after `graceMs`. */
export async function stopPid(pid: number, signal: NodeJS.Signals = 'SIGKILL', graceMs = 10_000): Promise<void> {
  const send = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      /* already gone */
    }
  };
  if (!alive(pid)) return;
  send(signal);
  const deadline = Date.now() + graceMs;
  while (alive(pid)) {
    if (Date.now() > deadline) {
      send('SIGKILL');
      if (Date.now() > deadline + 5_000) throw new Error(`process ${pid} did not exit`);
    }
    await sleep(10);
  }
}

/** The argv of a running process (from /proc/PID/cmdline). */
export function cmdlineOf(pid: number): string[] {
  const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  return raw.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
}

/** PIDs of live QEMU processes whose argv mentions `fragment` (for cleanup). */
export function qemusMentioning(fragment: string): number[] {
  const pids: number[] = [];
  for (const pid of listPids()) {
    try {
      const argv = cmdlineOf(pid);
      if (argv[0]?.includes('qemu') && argv.some((a) => a.includes(fragment)) && alive(pid)) pids.push(pid);
    } catch {
      /* gone */
    }
  }
  return pids;
}

function listPids(): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((p) => p !== process.pid);
}
