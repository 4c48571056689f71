/**
 * The real Debian 12 test guest (guest/debian/build.sh), cached by package
 * versions, and what tests do with it: a throw-away overlay of its disk (the
 * cached image stays pristine), a direct-kernel spec, and commands run in the
 * guest through its agent (guest-exec over the VM's qga.sock).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GuestAgentClient } from '../../src/qmp/index.js';
import type { VmSpecInput } from '../../src/spec/index.js';
import { limit, scaled } from './limits.js';
import { publishedCopy } from './publish.js';

export interface DebianGuest {
  dir: string;
  kernel: string;
  initrd: string;
  /** Compressed qcow2 of the ext4 root filesystem (no partition table). Never boot it directly: use overlayOf(). */
  disk: string;
  cmdline: string;
  manifest: { key: string; kernelVersion: string; packages: Record<string, string>; usedMiB: number; buildSeconds: number };
}

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The first build takes minutes (mmdebstrap); a test's beforeAll gives it this long. */
export const DEBIAN_BUILD_TIMEOUT_MS = 20 * 60_000;

function cacheRoot(): string {
  return process.env['POLYVISOR_DEBIAN_CACHE'] ?? path.join(os.homedir(), '.cache', 'polyvisor', 'debian');
}

/**
 * Builds the guest if needed (or always, with build=true; a no-op when the cache is current) and returns its files.
 * POLYVISOR_TEST_DEBIAN names a built directory to use as it is.
 */
export function debianGuest(build = false): DebianGuest {
  const given = process.env['POLYVISOR_TEST_DEBIAN'];
  let dir = given ?? path.join(cacheRoot(), 'current');
  if (given === undefined && (build || !existsSync(path.join(dir, 'manifest.json')))) {
    const r = spawnSync('bash', [path.join(ROOT, 'guest', 'debian', 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`guest/debian/build.sh failed with ${r.status}`);
    dir = r.stdout.trim().split('\n').pop()!;
  }
  const m = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as DebianGuest['manifest'] & {
    cmdline: string;
    files: { kernel: string; initrd: string; disk: string };
  };
  // Daemons get a copy any QEMU user can pass to (qemuUser: per-vm): the cache under /root is closed to them.
  const real = publishedCopy('debian', path.resolve(dir), m.key, [...Object.values(m.files), 'manifest.json']);
  return {
    dir: real,
    kernel: path.join(real, m.files.kernel),
    initrd: path.join(real, m.files.initrd),
    disk: path.join(real, m.files.disk),
    cmdline: m.cmdline,
    manifest: m,
  };
}

/** A qcow2 overlay on the guest's disk at `file`: the guest writes there, the cache stays as built. */
export function overlayOf(g: DebianGuest, file: string): string {
  const r = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', g.disk, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img create ${file}: ${r.stderr}`);
  return file;
}

/** A direct-kernel spec of the Debian guest on `rootImage` (an overlay), 1 GiB and 2 vCPUs, as FACTS.md measured. */
export function debianSpec(name: string, g: DebianGuest, rootImage: string, extra: Partial<VmSpecInput> = {}): VmSpecInput {
  return {
    name,
    memory: '1Gi',
    cpu: { count: 2 },
    machine: { accel: 'tcg' },
    boot: { kernel: g.kernel, initrd: g.initrd, cmdline: g.cmdline },
    disks: [{ name: 'root', path: rootImage, format: 'qcow2' }],
    ...extra,
  };
}

/** The agent socket of VM `id` under a daemon's state directory. */
export function agentSocketOf(stateDir: string, id: string): string {
  const dir = path.join(stateDir, 'vms', id);
  const direct = path.join(dir, 'qga.sock');
  if (existsSync(direct)) return direct;
  for (const sub of readdirSync(dir)) {
    const p = path.join(dir, sub, 'qga.sock');
    if (existsSync(p)) return p;
  }
  throw new Error(`no qga.sock under ${dir}`);
}

async function withAgent<T>(socket: string, f: (a: GuestAgentClient) => Promise<T>): Promise<T> {
  const a = await GuestAgentClient.connect(socket, { timeoutMs: scaled(5_000) });
  try {
    return await f(a);
  } finally {
    a.close();
  }
}

/** Waits until the guest agent answers guest-ping (the guest booted far enough for udev to start it). */
export async function waitForAgent(socket: string, timeoutMs = limit('boot', 4)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      await withAgent(socket, (a) => a.execute('guest-ping'));
      return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`the guest agent on ${socket} did not answer within ${timeoutMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface ExecResult { exitcode: number; stdout: string; stderr: string }

/** Starts `argv` in the guest through guest-exec without waiting (a background writer); returns its pid. */
export function guestSpawn(socket: string, argv: string[]): Promise<number> {
  return withAgent(socket, async (a) => {
    const r = await a.execute<{ pid: number }>('guest-exec', { path: argv[0], arg: argv.slice(1), 'capture-output': false });
    return r.pid;
  });
}

/** Runs `argv` in the guest through guest-exec and waits for it; stdout/stderr captured. */
export async function guestRun(socket: string, argv: string[], timeoutMs = limit('shell')): Promise<ExecResult> {
  const pid = await withAgent(socket, async (a) => (await a.execute<{ pid: number }>('guest-exec', { path: argv[0], arg: argv.slice(1), 'capture-output': true })).pid);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await withAgent(socket, (a) => a.execute<{ exited: boolean; exitcode?: number; signal?: number; 'out-data'?: string; 'err-data'?: string }>('guest-exec-status', { pid }));
    if (s.exited) {
      const dec = (b?: string) => (b ? Buffer.from(b, 'base64').toString('utf8') : '');
      return { exitcode: s.exitcode ?? 128 + (s.signal ?? 0), stdout: dec(s['out-data']), stderr: dec(s['err-data']) };
    }
    if (Date.now() > deadline) throw new Error(`${argv.join(' ')} did not finish in the guest within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A shell command line in the guest (the string is the test's own, never user input). */
export function guestSh(socket: string, script: string, timeoutMs?: number): Promise<ExecResult> {
  return guestRun(socket, ['/bin/sh', '-c', script], timeoutMs);
}
