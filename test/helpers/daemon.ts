/**
 * Starts a real polyvisord (the compiled daemon) with its own state directory,
 * unix socket and loopback port, and stops it by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PolyvisorClient } from '../../src/client/index.js';
import { limit } from './limits.js';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface TestDaemon {
  stateDir: string;
  socket: string;
  url: string;
  pid: number;
  client: PolyvisorClient;
  log: () => string;
  /** False once the process has exited (killed by a test, or crashed). */
  alive(): boolean;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait: the daemon dies, its VMs do not. */
  kill9(): Promise<void>;
}

export interface DaemonOptions {
  stateDir?: string;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Run the daemon (and so its QEMU and network plumbing) inside this network namespace (`ip netns exec NS`); its unix socket works from outside. */
  netns?: string;
}

/** Env var naming the file where state directories are listed, for test/setup/global.ts to remove after the run. */
export const STATE_DIR_LIST = 'POLYVISOR_TEST_STATE_DIR_LIST';

export function tempStateDir(tag: string): string {
  const dir = mkdtempSync(path.join('/tmp', `pv-${tag}-`));
  const list = process.env[STATE_DIR_LIST];
  if (list) appendFileSync(list, `${dir}\n`);
  return dir;
}

/**
 * Whether the run's daemons confine QEMU (qemuUser: per-vm): test daemons take POLYVISOR_QEMU_USER from the
 * run's environment; unset, the daemon's default (src/daemon/config.ts, `root` today) holds.
 */
export function qemuConfined(): boolean {
  return process.env['POLYVISOR_QEMU_USER'] === 'per-vm';
}

/**
 * A tempStateDir the VMs' QEMUs may pass through (0711: traverse, no listing), for the kernels, disks and
 * programs a test hands its daemon: with qemuUser: per-vm, QEMU runs as the VM's own user and the daemon
 * refuses a file behind a closed folder (VM_FILE_UNREACHABLE), as it should.
 */
export function vmTempDir(tag: string): string {
  const dir = tempStateDir(tag);
  chmodSync(dir, 0o711);
  return dir;
}

export async function startDaemon(o: DaemonOptions = {}): Promise<TestDaemon> {
  const stateDir = o.stateDir ?? tempStateDir('d');
  const infoFile = path.join(stateDir, 'daemon.json');
  rmSync(infoFile, { force: true });
  const args = [path.join(ROOT, 'bin', 'polyvisord.js'), '--state-dir', stateDir, '--listen', '127.0.0.1:0', '--accel', 'tcg', '--log-level', 'debug', ...(o.extraArgs ?? [])];
  // `ip netns exec` execs the command in place: the child's PID is the daemon's.
  const [bin, argv] = o.netns === undefined ? [process.execPath, args] : ['ip', ['netns', 'exec', o.netns, process.execPath, ...args]];
  const child: ChildProcess = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POLYVISOR_DEFAULT_NETWORK: '0', ...o.env } }); // no default network unless a test asks (in its own namespace)
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + limit('daemon');
  for (;;) {
    if (existsSync(infoFile)) break;
    if (child.exitCode !== null) throw new Error(`polyvisord exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`polyvisord did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const info = JSON.parse(readFileSync(infoFile, 'utf8')) as { socket: string; url: string; pid: number };
  const stopWith = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  return {
    stateDir,
    socket: info.socket,
    url: info.url,
    pid: child.pid!,
    client: new PolyvisorClient({ endpoint: { socketPath: info.socket } }),
    log: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: () => stopWith('SIGTERM'),
    kill9: () => stopWith('SIGKILL'),
  };
}

/** PIDs of processes whose command line mentions `stateDir` (the QEMUs a test daemon started). */
export function processesUnder(stateDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.includes('qemu') && argv.some((a) => a.includes(stateDir))) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** Test cleanup: SIGKILLs, by PID, every QEMU started under `stateDir`. */
export function killQemusUnder(stateDir: string): void {
  for (const pid of processesUnder(stateDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
