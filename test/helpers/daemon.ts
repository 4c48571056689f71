/**
 * Starts a real polyvisord (the compiled daemon) with its own state directory,
 * unix socket and loopback port, and stops it by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PolyvisorClient } from '../../src/client/index.js';
import { defaultQemuUser } from '../../src/daemon/config.js';
import { limit } from './limits.js';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface TestDaemon {
  stateDir: string;
  socket: string;
  url: string;
  pid: number;
  /** The QEMU uid range's base (the shared group's gid) the daemon was given: its VMs get base+1 … (qemuUidRangeFor). */
  qemuUidBase: number;
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

/**
 * The VM directories in a state directory's `vms/` (none when it does not exist): every entry but dot-folders —
 * `.qemu-uids`, the QEMU uid allocations, lives beside them and belongs to no VM.
 */
export function vmDirsIn(stateDir: string): string[] {
  const dir = path.join(stateDir, 'vms');
  return existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith('.')) : [];
}

export function tempStateDir(tag: string): string {
  const dir = mkdtempSync(path.join('/tmp', `pv-${tag}-`));
  const list = process.env[STATE_DIR_LIST];
  if (list) appendFileSync(list, `${dir}\n`);
  return dir;
}

/**
 * Whether the run's daemons confine QEMU (qemuUser: per-vm): test daemons take POLYVISOR_QEMU_USER from the
 * run's environment; unset, the daemon's default holds (src/daemon/config.ts: per-vm for a root daemon).
 */
export function qemuConfined(): boolean {
  const v = process.env['POLYVISOR_QEMU_USER'];
  return v ? v === 'per-vm' : defaultQemuUser() === 'per-vm';
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

/**
 * Each test daemon its own QEMU uid range (qemuUser: per-vm). Two daemons on one host with their own vmsDirs
 * (every move between daemons) keep their allocations in their own VMSDIR/.qemu-uids: with the one default range
 * both would give their first VM the same uid, and each VM could open the other's files. A daemon here gets
 * UID_SLOT uids from a slot picked by a hash of its state directory among UID_SLOTS above UID_FLOOR (so the
 * same daemon restarted on the same folder, as daemon-restart and the cluster tests do, keeps its VMs' uids and
 * the group of its folders); a slot this process already gave another folder is skipped (linear probing), and
 * the last uid of a slot is left out so no VM's uid is the next slot's shared group. Two daemons of two test
 * processes (engineers running files side by side) meet in one slot with odds 1 in 65,536 per pair.
 * The whole span (3,000,000,000 … 3,067,108,864) is inside the config's valid range. A test that names a
 * base itself (POLYVISOR_QEMU_UID_BASE in `env` or in the run's environment) keeps it.
 */
const UID_FLOOR = 3_000_000_000;
const UID_SLOT = 1024;
const UID_SLOTS = 65_536;
const uidSlots = new Map<number, string>();

export function qemuUidRangeFor(stateDir: string): { base: number; count: number } {
  const dir = path.resolve(stateDir);
  let slot = createHash('sha256').update(dir).digest().readUInt32BE(0) % UID_SLOTS;
  for (let tries = 0; tries < UID_SLOTS; tries++, slot = (slot + 1) % UID_SLOTS) {
    const owner = uidSlots.get(slot);
    if (owner === undefined || owner === dir) break;
  }
  uidSlots.set(slot, dir);
  return { base: UID_FLOOR + slot * UID_SLOT, count: UID_SLOT - 1 };
}

/**
 * The vmsDir a daemon's `--config FILE` names, if any. Daemons sharing one (the cluster tests: VMs fail over and
 * move in place) share its uid range: the daemon makes its vmsDir root:BASE 0710, so with two bases each daemon's
 * start would shut the other's VMs out of the folder. They allocate in that vmsDir's one .qemu-uids folder, as the
 * members of a production cluster on shared storage do with the one default range (docs/security.md "Two daemons
 * on one host"), so no two of their VMs get one uid.
 */
function sharedVmsDir(extraArgs: readonly string[] = []): string | undefined {
  const i = extraArgs.indexOf('--config');
  const file = i >= 0 ? extraArgs[i + 1] : undefined;
  if (file === undefined || !existsSync(file)) return undefined;
  try {
    const v = (JSON.parse(readFileSync(file, 'utf8')) as { vmsDir?: unknown }).vmsDir;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The env that gives a daemon on `stateDir` its own uid range (nothing when `env` or the run's environment names a base), and the base it gets. */
export function qemuUidEnvFor(stateDir: string, env?: NodeJS.ProcessEnv): { base: number; env: Record<string, string> } {
  const named = env?.['POLYVISOR_QEMU_UID_BASE'] ?? process.env['POLYVISOR_QEMU_UID_BASE'];
  if (named !== undefined) return { base: Number(named), env: {} };
  const range = qemuUidRangeFor(stateDir);
  return { base: range.base, env: { POLYVISOR_QEMU_UID_BASE: String(range.base), POLYVISOR_QEMU_UID_COUNT: String(range.count) } };
}

export async function startDaemon(o: DaemonOptions = {}): Promise<TestDaemon> {
  const stateDir = o.stateDir ?? tempStateDir('d');
  const { base, env: uidEnv } = qemuUidEnvFor(sharedVmsDir(o.extraArgs) ?? stateDir, o.env);
  const infoFile = path.join(stateDir, 'daemon.json');
  rmSync(infoFile, { force: true });
  const args = [path.join(ROOT, 'bin', 'polyvisord.js'), '--state-dir', stateDir, '--listen', '127.0.0.1:0', '--accel', 'tcg', '--log-level', 'debug', ...(o.extraArgs ?? [])];
  // `ip netns exec` execs the command in place: the child's PID is the daemon's.
  const [bin, argv] = o.netns === undefined ? [process.execPath, args] : ['ip', ['netns', 'exec', o.netns, process.execPath, ...args]];
  const child: ChildProcess = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POLYVISOR_DEFAULT_NETWORK: '0', ...uidEnv, ...o.env } }); // no default network unless a test asks (in its own namespace)
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
    qemuUidBase: base,
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
