/** Method A: a real polyvisord (compiled, from bin/) driven through the real CLI. */
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alive, run, runOk, sleep, stopPid, type RunResult } from './proc.js';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DAEMON = path.join(ROOT, 'bin', 'polyvisord.js');
const CLI = path.join(ROOT, 'bin', 'polyvisor.js');

export interface Daemon {
  pid: number;
  socket: string;
  logFile: string;
}

/** The part of `vm show --json` the benchmark reads. */
export interface VmShow {
  state: string;
  runtime: { pid: number; accel: string; qemuVersion: string } | null;
  files: { serialLog: string; dir: string };
}

/**
 * A root daemon runs each VM's QEMU as the VM's own user (qemuUser: per-vm), which must pass through every folder
 * above the state directory, and a bench's mkdtemp folder is 0700: the folders between the system's temporary
 * folder and `stateDir` (the bench's own) get o+x (pass, not list), as test/helpers/daemon.ts vmTempDir does.
 */
function passableTempParents(stateDir: string): void {
  const tmp = path.resolve(os.tmpdir());
  mkdirSync(stateDir, { recursive: true });
  for (let cur = path.dirname(path.resolve(stateDir)); cur.startsWith(`${tmp}/`); cur = path.dirname(cur)) {
    const mode = statSync(cur).mode & 0o777;
    if ((mode & 0o001) === 0) chmodSync(cur, mode | 0o011);
  }
}

/** Starts `polyvisord --state-dir DIR --listen off --accel tcg` (or another `listen`), its output in DIR/daemon.log. */
export async function startDaemon(stateDir: string, o: { listen?: string; env?: NodeJS.ProcessEnv; daemonJs?: string } = {}): Promise<Daemon> {
  passableTempParents(stateDir);
  const logFile = path.join(stateDir, 'daemon.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [o.daemonJs ?? DAEMON, '--state-dir', stateDir, '--listen', o.listen ?? 'off', '--accel', 'tcg'], {
    stdio: ['ignore', fd, fd],
    detached: true,
    env: { ...process.env, POLYVISOR_DEFAULT_NETWORK: '0', ...o.env }, // benches build no network in the host's namespace
  });
  closeSync(fd);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error('polyvisord did not start');
  const info = path.join(stateDir, 'daemon.json');
  const deadline = Date.now() + 30_000;
  while (!existsSync(info)) {
    if (!alive(pid)) throw new Error(`polyvisord exited early:\n${readFileSync(logFile, 'utf8')}`);
    if (Date.now() > deadline) {
      await stopPid(pid);
      throw new Error(`polyvisord wrote no daemon.json within 30 s:\n${readFileSync(logFile, 'utf8')}`);
    }
    await sleep(20);
  }
  const socket = (JSON.parse(readFileSync(info, 'utf8')) as { socket?: string }).socket ?? path.join(stateDir, 'polyvisord.sock');
  return { pid, socket, logFile };
}

/** Runs `polyvisor --socket SOCK ARGS…` (node on bin/polyvisor.js, as a user would). */
export function cli(d: Daemon, ...args: string[]): Promise<RunResult> {
  return run(process.execPath, [CLI, '--socket', d.socket, ...args], 120_000);
}

export async function cliOk(d: Daemon, ...args: string[]): Promise<string> {
  return runOk(process.execPath, [CLI, '--socket', d.socket, ...args], 120_000);
}

export async function show(d: Daemon, name: string): Promise<VmShow> {
  const v = JSON.parse(await cliOk(d, 'vm', 'show', name, '--json')) as Partial<VmShow>;
  if (typeof v.state !== 'string' || typeof v.files?.serialLog !== 'string') {
    throw new Error(`vm show --json lacks state or files.serialLog: ${JSON.stringify(v).slice(0, 400)}`);
  }
  return { state: v.state, runtime: v.runtime ?? null, files: v.files };
}

export async function stopDaemon(d: Daemon): Promise<void> {
  await stopPid(d.pid, 'SIGTERM', 15_000);
}
