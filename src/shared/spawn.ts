/**
 * Safe process spawning (DESIGN rule 5): argv arrays only, never a shell;
 * every child has a timeout and an AbortSignal and is tracked until it exits.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PolyvisorError, type ErrorCode } from './errors.js';

export interface RunOptions {
  /** Kill the child (SIGKILL) and reject with TIMEOUT after this many ms. */
  timeoutMs: number;
  signal?: AbortSignal;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Uint8Array;
  /** Error code thrown when the binary is not installed (default FILE_NOT_FOUND). */
  missingCode?: ErrorCode;
  /** Called with each chunk of stderr as it arrives (progress parsing). */
  onStderr?: (chunk: string) => void;
  onStdout?: (chunk: string) => void;
  /** Keep at most this many bytes of each stream (default 4 MiB). */
  maxBuffer?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const live = new Set<number>();
/** PIDs of children started through run() that have not exited yet. */
export const liveChildren = (): readonly number[] => [...live];

export function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  if (args.some((a) => typeof a !== 'string')) throw new Error('run: every argument must be a string');
  return new Promise((resolve, reject) => {
    const max = opts.maxBuffer ?? 4 * 1024 * 1024;
    const child = spawn(cmd, [...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      shell: false,
    });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() => reject(new PolyvisorError('TIMEOUT', `${cmd} did not finish within ${opts.timeoutMs} ms`)));
    }, opts.timeoutMs);
    const onAbort = (): void => {
      child.kill('SIGKILL');
      // A watchdog that aborts with a catalogue error (a stalled copy's TIMEOUT) is reported as that error.
      const reason: unknown = opts.signal?.reason;
      finish(() => reject(reason instanceof PolyvisorError ? reason : new PolyvisorError('ABORTED', `${cmd} was cancelled`)));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    if (child.pid !== undefined) live.add(child.pid);
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      if (stdout.length < max) stdout += c;
      opts.onStdout?.(c);
    });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      if (stderr.length < max) stderr += c;
      opts.onStderr?.(c);
    });
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) live.delete(child.pid);
      finish(() =>
        reject(
          err.code === 'ENOENT'
            ? new PolyvisorError(opts.missingCode ?? 'FILE_NOT_FOUND', `${cmd} is not installed or not on PATH`, { cause: err })
            : err,
        ),
      );
    });
    child.on('close', (code, signal) => {
      if (child.pid !== undefined) live.delete(child.pid);
      finish(() => resolve({ code, signal, stdout, stderr }));
    });
  });
}

/** Like run(), but rejects with `code` and the tail of stderr when the exit status is not 0. */
export async function runChecked(
  cmd: string,
  args: readonly string[],
  opts: RunOptions & { failCode: ErrorCode },
): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const tail = r.stderr.trim().split('\n').slice(-5).join('\n');
    throw new PolyvisorError(opts.failCode, `${cmd} exited with ${r.code ?? r.signal}: ${tail}`);
  }
  return r;
}

/** True if a process with this PID exists (it may be a zombie or another user's). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The argv of a running process from /proc, or undefined if it is gone. */
export async function pidArgv(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    if (raw.length === 0) return undefined; // zombie
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/** Sends `sig` to `pid`; false if it was already gone. */
export function signalPid(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where `tool` would be executed from: itself when it names a path (an
 * executable file there), else the first executable `tool` in PATH and the
 * sbin folders (a daemon started by a service manager may lack them).
 * undefined when there is none.
 */
export async function findExecutable(tool: string): Promise<string | undefined> {
  // access(X_OK) alone says yes to root for folders and, on some mounts, for any file: ask for a file with an x bit too.
  const runnable = (p: string) => access(p, constants.X_OK).then(() => stat(p)).then((st) => st.isFile() && (st.mode & 0o111) !== 0, () => false);
  if (tool.includes('/')) return (await runnable(tool)) ? tool : undefined;
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/sbin'].filter((d) => d !== '');
  for (const d of dirs) if (await runnable(path.join(d, tool))) return path.join(d, tool);
  return undefined;
}
