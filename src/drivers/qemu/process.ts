/**
 * The QEMU process of a VM, which runs in a session of its own and outlives
 * the daemon: after a daemon restart it is not our child, so we watch
 * it through its pidfile and /proc. A process counts as this VM's QEMU only
 * while its argv carries `-uuid <id>` (guards against PID reuse); a zombie
 * (empty cmdline) counts as gone.
 */
import { readFile } from 'node:fs/promises';
import { abortError, pidArgv, signalPid, sleep, timeoutSignal } from '../../shared/index.js';

export async function readPidFile(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const pid = Number(text?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function argvHasUuid(argv: readonly string[], vmId: string): boolean {
  return argv.some((a, i) => a === '-uuid' && argv[i + 1] === vmId);
}

/** The argv of `pid` if it is the live QEMU of VM `vmId`, else undefined. */
export async function qemuArgvOf(pid: number, vmId: string): Promise<string[] | undefined> {
  const argv = await pidArgv(pid);
  return argv && argvHasUuid(argv, vmId) ? argv : undefined;
}

export async function isQemuOf(pid: number, vmId: string): Promise<boolean> {
  return (await qemuArgvOf(pid, vmId)) !== undefined;
}

/** Resolves once the process is gone; rejects with TIMEOUT/ABORTED when `signal` fires first. */
export async function waitGone(pid: number, vmId: string, signal: AbortSignal, intervalMs = 50): Promise<void> {
  while (await isQemuOf(pid, vmId)) {
    if (signal.aborted) throw abortError(signal, `waiting for QEMU (pid ${pid}) to exit`);
    await sleep(intervalMs, signal).catch(() => undefined);
  }
}

/** SIGTERM, up to `graceMs` for a clean exit, then SIGKILL; resolves when the process is gone. */
export async function terminate(pid: number, vmId: string, signal: AbortSignal, graceMs = 3_000): Promise<void> {
  if (!(await isQemuOf(pid, vmId))) return;
  signalPid(pid, 'SIGTERM');
  try {
    await waitGone(pid, vmId, timeoutSignal(graceMs, signal));
    return;
  } catch {
    if (signal.aborted) throw abortError(signal, `stopping QEMU (pid ${pid})`);
  }
  if (await isQemuOf(pid, vmId)) signalPid(pid, 'SIGKILL');
  await waitGone(pid, vmId, signal);
}

/** The value after `flag` in an argv, e.g. argvValue(argv, '-accel'). */
export function argvValue(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}
