/**
 * Runs qemu-img through shared/spawn (argv arrays, timeout, AbortSignal) and,
 * when the run fails, waits until the child has really exited so a caller
 * removing its half-written output does not race a dying qemu-img.
 */
import { liveChildren, run, sleep, type RunResult } from '../shared/index.js';

export interface QemuImgOptions {
  signal?: AbortSignal;
  /** Kill qemu-img after this many ms (each call has its own default). */
  timeoutMs?: number;
  /** The qemu-img binary (default "qemu-img" on PATH). */
  binary?: string;
}

interface RunQemuImgOptions extends QemuImgOptions {
  timeoutMs: number;
  onStdout?: (chunk: string) => void;
}

export async function runQemuImg(args: readonly string[], opts: RunQemuImgOptions): Promise<RunResult> {
  const before = new Set(liveChildren());
  const pending = run(opts.binary ?? 'qemu-img', args, {
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    missingCode: 'QEMU_IMG_MISSING',
    onStdout: opts.onStdout,
    env: { ...process.env, LC_ALL: 'C' },
  });
  // run() registers its child synchronously, so the new PID is ours.
  const pid = liveChildren().find((p) => !before.has(p));
  try {
    return await pending;
  } catch (err) {
    if (pid !== undefined) await exited(pid);
    throw err;
  }
}

/** The last lines of qemu-img's stderr, for error messages. */
export function stderrTail(r: RunResult, lines = 5): string {
  const tail = r.stderr.trim().split('\n').slice(-lines).join('\n').trim();
  return tail.length > 0 ? tail : `exit status ${r.code ?? r.signal}`;
}

async function exited(pid: number, maxMs = 5000): Promise<void> {
  const until = Date.now() + maxMs;
  while (liveChildren().includes(pid) && Date.now() < until) await sleep(10);
}
