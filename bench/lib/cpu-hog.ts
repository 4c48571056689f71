/**
 * A CPU hog for "under load" benchmark runs: one busy loop per core
 * (`bash -c 'while :; do :; done'`) at normal priority, as scripts/cpu-load.sh
 * does; started and stopped by PID.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { stopPid } from './proc.js';

export function startCpuHog(loops = os.availableParallelism()): number[] {
  const pids: number[] = [];
  for (let i = 0; i < loops; i++) {
    const child = spawn('bash', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    if (child.pid === undefined) throw new Error('busy loop did not start');
    pids.push(child.pid);
  }
  return pids;
}

/** Stops the loops by PID (and empties the list, so a second call is harmless). */
export async function stopCpuHog(pids: number[]): Promise<void> {
  for (const pid of pids.splice(0)) await stopPid(pid, 'SIGTERM', 5_000);
}
