/** The project's own test guest (guest/build.sh), cached by package versions. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { publishedCopy } from './publish.js';

export interface TestGuest {
  dir: string;
  kernel: string;
  initrd: string;
  disk: string;
  readyLine: string;
  cmdline: string;
}

const ROOT = path.resolve(import.meta.dirname, '..', '..');

function cacheRoot(): string {
  return process.env['POLYVISOR_GUEST_CACHE'] ?? path.join(os.homedir(), '.cache', 'polyvisor', 'guest');
}

/** Builds the guest if needed (globalSetup does it once) and returns its files. */
export function testGuest(build = false): TestGuest {
  let dir = process.env['POLYVISOR_TEST_GUEST'] ?? path.join(cacheRoot(), 'current');
  if (build || !existsSync(path.join(dir, 'manifest.json'))) {
    const r = spawnSync('bash', [path.join(ROOT, 'guest', 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`guest/build.sh failed with ${r.status}`);
    dir = r.stdout.trim().split('\n').pop()!;
  }
  const m = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    readyLine: string;
    cmdline: string;
    files: { kernel: string; initrd: string; disk: string };
  };
  const real = path.resolve(dir);
  return {
    dir: real,
    kernel: path.join(real, m.files.kernel),
    initrd: path.join(real, m.files.initrd),
    disk: path.join(real, m.files.disk),
    readyLine: m.readyLine,
    cmdline: m.cmdline,
  };
}

/**
 * The test guest's kernel and initrd copied into `stateDir/guest-files`
 * (0700, inside the daemon's state directory), so a QEMU running as its VM's
 * own user (qemuUser: per-vm) reaches them: the guest cache under /root is
 * closed to it, which is the point.
 */
export function guestFilesIn(stateDir: string): { kernel: string; initrd: string } {
  const g = testGuest();
  const dir = path.join(stateDir, 'guest-files');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const kernel = path.join(dir, 'vmlinuz');
  const initrd = path.join(dir, 'initrd');
  copyFileSync(g.kernel, kernel);
  copyFileSync(g.initrd, initrd);
  return { kernel, initrd };
}

/**
 * The test guest where every VM user can pass (publish.ts): the cache under
 * root's home is closed to a QEMU running as its VM's own user (qemuUser:
 * per-vm), which the daemon rightly refuses with VM_FILE_UNREACHABLE.
 */
export function publishForConfinedQemu(g: TestGuest): TestGuest {
  const m = JSON.parse(readFileSync(path.join(g.dir, 'manifest.json'), 'utf8')) as { key: string; files: Record<string, string> };
  const dir = publishedCopy('guest', g.dir, m.key, [...Object.values(m.files), 'manifest.json']);
  if (dir === g.dir) return g;
  const prev = process.env['POLYVISOR_TEST_GUEST'];
  process.env['POLYVISOR_TEST_GUEST'] = dir;
  try {
    return testGuest();
  } finally {
    if (prev === undefined) delete process.env['POLYVISOR_TEST_GUEST'];
    else process.env['POLYVISOR_TEST_GUEST'] = prev;
  }
}
