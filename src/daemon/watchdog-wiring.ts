/**
 * Starts the fencing watchdog (daemon/watchdog-main.ts) beside a cluster
 * host's daemon: detached in its own session, its stdin a pipe the daemon
 * writes `alive <epoch ms>` to after each lease renewal, its stderr appended
 * to STATE/watchdog.log. If the daemon hangs or dies, the pipe goes quiet or
 * closes and the watchdog kills the host's HA VMs when the lease runs out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FenceTargets } from '../cluster/index.js';
import type { Logger } from '../shared/index.js';

export interface RunningWatchdog {
  pid: number;
  targets: FenceTargets;
  /** Resolves when the watchdog process has exited (after it fenced, or left). */
  exited: Promise<void>;
  /** Tells it the lease is surely alive until `aliveUntil` (ms since epoch). */
  alive(aliveUntil: number): void;
  /** The host leaves the cluster on purpose: the watchdog disarms and exits. */
  leave(): void;
}

export function startWatchdog(stateDir: string, logger: Logger): RunningWatchdog {
  const dir = path.join(stateDir, 'fence');
  const main = fileURLToPath(new URL('./watchdog-main.js', import.meta.url));
  const logFd = openSync(path.join(stateDir, 'watchdog.log'), 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [main, '--dir', dir], { detached: true, stdio: ['pipe', 'ignore', logFd] });
  } finally {
    closeSync(logFd);
  }
  child.unref();
  // The pipe must not keep the daemon alive either, and a watchdog that died must not crash it.
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  child.stdin?.on('error', (err) => logger.warn({ err }, 'fencing watchdog pipe'));
  const exited = new Promise<void>((resolve) => child.on('exit', (code, signal) => {
    logger.warn({ code, signal, pid: child.pid }, 'fencing watchdog exited');
    resolve();
  }));
  logger.info({ pid: child.pid, dir }, 'fencing watchdog started');
  const write = (line: string) => {
    if (child.stdin && !child.stdin.destroyed) child.stdin.write(`${line}\n`);
  };
  return {
    pid: child.pid!,
    targets: new FenceTargets(dir),
    exited,
    alive: (until) => write(`alive ${Math.floor(until)}`),
    leave: () => {
      write('leave');
      child.stdin?.end();
    },
  };
}
