/**
 * Measures this run's speed once: the test guest booted by plain QEMU (TCG,
 * direct kernel, 128 MiB) until its ready line. test/helpers/limits.ts scales
 * every guest wait by it. The best of two boots (the first also warms the page
 * cache), killed by PID.
 */
import { spawn } from 'node:child_process';
import type { TestGuest } from '../helpers/guest.js';

function bootOnce(g: TestGuest, limitMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('qemu-system-x86_64', [
      '-accel', 'tcg', '-m', '128', '-nodefaults', '-display', 'none', '-no-reboot',
      '-kernel', g.kernel, '-initrd', g.initrd, '-append', g.cmdline, '-serial', 'stdio',
    ], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => finish(new Error(`the test guest did not print ${g.readyLine} within ${limitMs} ms`)), limitMs);
    const finish = (r: number | Error): void => {
      clearTimeout(timer);
      p.kill('SIGKILL');
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    p.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes(g.readyLine)) finish(performance.now() - t0);
    });
    p.once('error', (e) => finish(e));
    p.once('exit', (code) => finish(new Error(`QEMU exited (${code}) before the test guest was ready:\n${out.slice(-800)}`)));
  });
}

/** Milliseconds from QEMU's start to the guest's ready line, best of two. */
export async function calibrateBoot(g: TestGuest): Promise<number> {
  const first = await bootOnce(g, 300_000);
  const second = await bootOnce(g, 300_000);
  return Math.round(Math.min(first, second));
}
