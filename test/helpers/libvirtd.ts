/**
 * A private libvirtd for a test file (scripts/libvirtd.sh): its own config,
 * sockets and state under a temp folder, stopped by PID in afterAll together
 * with any QEMU it left running.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'libvirtd.sh');

export interface PrivateLibvirtd {
  dir: string;
  uri: string;
  pid: number;
  /** PIDs of the QEMUs this libvirtd runs now (from its pidfiles). */
  qemuPids(): number[];
  /** The PID of the QEMU of domain `name` on this libvirtd, or null. */
  qemuPid(name: string): number | null;
  stop(): void;
}

function script(cmd: 'start' | 'stop', dir: string): string {
  const r = spawnSync('bash', [SCRIPT, cmd, dir], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`scripts/libvirtd.sh ${cmd} ${dir} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout.trim();
}

export function startLibvirtd(tag = 'libvirtd'): PrivateLibvirtd {
  const dir = mkdtempSync(path.join(os.tmpdir(), `pv-${tag}-`));
  const uri = script('start', dir);
  const pid = Number(readFileSync(path.join(dir, 'libvirtd.pid'), 'utf8'));
  const qemuPids = (): number[] => {
    const run = path.join(dir, 'run', 'qemu');
    if (!existsSync(run)) return [];
    return readdirSync(run)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => Number(readFileSync(path.join(run, f), 'utf8')))
      .filter((p) => Number.isInteger(p) && p > 0 && existsSync(`/proc/${p}`));
  };
  const qemuPid = (name: string): number | null => {
    const f = path.join(dir, 'run', 'qemu', `${name}.pid`);
    if (!existsSync(f)) return null;
    const p = Number(readFileSync(f, 'utf8'));
    return Number.isInteger(p) && p > 0 && existsSync(`/proc/${p}`) ? p : null;
  };
  return {
    dir,
    uri,
    pid,
    qemuPids,
    qemuPid,
    stop(): void {
      const left = qemuPids();
      script('stop', dir);
      for (const p of left) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (!process.env['POLYVISOR_TEST_KEEP']) rmSync(dir, { recursive: true, force: true });
    },
  };
}
