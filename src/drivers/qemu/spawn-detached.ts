/**
 * Starting QEMU as a detached process of its own session instead of with
 * `-daemonize`: QEMU's seccomp sandbox (`-sandbox spawn=deny`) forbids the
 * fork that -daemonize does after the filter is installed (QEMU dies with
 * "Bad system call"), and libvirt starts QEMU the same way. The VM still
 * outlives the daemon: a new session, no terminal, stdio in `qemu.log`.
 *
 * QEMU is ready when its monitor answers qmp_capabilities: QMP commands run in
 * the main loop, which only turns once the machine is built. If QEMU exits
 * first, the error names its exit status and the last lines of its log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { open, readFile, stat } from 'node:fs/promises';
import { QmpClient } from '../../qmp/index.js';
import { findExecutable, PolyvisorError, sleep, timeoutSignal, type ErrorCode } from '../../shared/index.js';
import { asVmUser, type VmIdentity } from './vm-user.js';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DetachedQemu {
  pid: number;
  /** Settles when the process exits (never rejects). */
  exited: Promise<ExitStatus>;
  /** How it exited, once it has; undefined while it runs. */
  exitStatus(): ExitStatus | undefined;
  child: ChildProcess;
}

/**
 * Spawns `binary argv` detached, stdout and stderr appended to `logFile` (0600). As a VM's own user, setpriv execs
 * the binary: one that is missing is found here first (setpriv would only exit 127), and a missing setpriv is named.
 */
export async function spawnDetached(binary: string, argv: readonly string[], logFile: string, missingCode: ErrorCode, user?: VmIdentity): Promise<DetachedQemu> {
  if (user && !(await findExecutable(binary))) throw new PolyvisorError(missingCode, `${binary} is not installed or not on PATH`);
  const log = await open(logFile, 'a', 0o600);
  try {
    const cmd = user ? asVmUser(user, binary, argv) : { binary, argv };
    const child = spawn(cmd.binary, cmd.argv, { detached: true, stdio: ['ignore', log.fd, log.fd], cwd: '/' });
    let status: ExitStatus | undefined;
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => resolve((status = { code, signal })));
      child.once('error', () => resolve((status = { code: null, signal: null })));
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT'
        ? (cmd.binary === binary
          ? new PolyvisorError(missingCode, `${binary} is not installed or not on PATH`, { cause: err })
          : new PolyvisorError('QEMU_START_FAILED', `${cmd.binary} (util-linux) is not installed or not on PATH: it starts each VM's QEMU as the VM's own user (qemuUser: per-vm)`, { cause: err }))
        : new PolyvisorError('QEMU_START_FAILED', `cannot start ${binary}: ${err.message}`, { cause: err })));
    });
    child.unref();
    return { pid, exited, exitStatus: () => status, child };
  } finally {
    await log.close();
  }
}

/** The last `lines` lines of a log file ('' when it cannot be read). */
export async function logTail(file: string, lines = 5): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-lines).join('\n');
}

/**
 * Waits until `socket` exists; rejects with QEMU_START_FAILED (the exit status
 * and the log's tail) if the process exits first, or when `signal` fires.
 */
export async function waitForSocket(q: DetachedQemu, socket: string, logFile: string, signal: AbortSignal): Promise<void> {
  for (;;) {
    const gone = q.exitStatus();
    if (gone) throw await exitError(gone, logFile, 'before its monitor socket appeared');
    if (await stat(socket).then((s) => s.isSocket(), () => false)) return;
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new PolyvisorError('ABORTED', 'starting QEMU was cancelled');
    await sleep(20);
  }
}

/** The error for a QEMU that exited during start-up. */
export async function exitError(e: ExitStatus, logFile: string, when: string): Promise<PolyvisorError> {
  const tail = await logTail(logFile);
  const status = e.signal ? `signal ${e.signal}` : `status ${e.code}`;
  return new PolyvisorError('QEMU_START_FAILED', `QEMU exited with ${status} ${when}${tail ? `: ${tail}` : ''}`);
}

export interface StartedQemu extends DetachedQemu {
  qmp: QmpClient;
}

/**
 * Spawns QEMU detached and connects its monitor. `started` runs with the PID
 * as soon as the process exists (the cgroup placement). On any failure the
 * process is left for the caller to terminate by `onPid`'s PID.
 */
export async function startQemu(o: {
  binary: string; argv: readonly string[]; qmpSocket: string; logFile: string; signal: AbortSignal;
  socketTimeoutMs: number; qmpTimeoutMs: number; onPid: (pid: number, exited: DetachedQemu['exited']) => Promise<void> | void;
  /** Run QEMU as this VM's own user (vm-user.ts); as the daemon's user when undefined. */
  user?: VmIdentity;
}): Promise<StartedQemu> {
  const q = await spawnDetached(o.binary, o.argv, o.logFile, 'QEMU_MISSING', o.user);
  await o.onPid(q.pid, q.exited);
  await waitForSocket(q, o.qmpSocket, o.logFile, timeoutSignal(o.socketTimeoutMs, o.signal));
  try {
    return { ...q, qmp: await connectWhenListening(o.qmpSocket, o.signal, o.qmpTimeoutMs, () => q.exitStatus() !== undefined) };
  } catch (err) {
    // A QEMU that fails while building the machine closes its monitor: its log says why.
    const e = q.exitStatus() ?? (await Promise.race([q.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 500))]));
    throw e ? await exitError(e, o.logFile, 'while starting') : err;
  }
}

/**
 * QEMU binds its monitor socket and only then listens on it: a connect in
 * between is refused. Retries a refused connect (every 20 ms) while QEMU runs.
 */
async function connectWhenListening(socket: string, signal: AbortSignal, timeoutMs: number, exited: () => boolean): Promise<QmpClient> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await QmpClient.connect(socket, { signal, timeoutMs: Math.max(1, deadline - Date.now()) });
    } catch (err) {
      const refused = err instanceof PolyvisorError && /\((ECONNREFUSED|ENOENT)\)/.test(err.message);
      if (!refused || exited() || signal.aborted || Date.now() >= deadline) throw err;
      await sleep(20);
    }
  }
}
