/**
 * The HA VMs a host's watchdog must kill when it fences the host: one file
 * per VM in a directory (`<state>/fence/<vm>.json`: the QEMU PID and its
 * start time in clock ticks from /proc/PID/stat), written by the agent when an
 * HA VM starts and removed when it stops. The start time guards against PID
 * reuse: a PID whose start time differs is another process and is left alone.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { isValidName, writeFileAtomic } from '../shared/index.js';

export interface FenceTarget {
  vm: string;
  pid: number;
  /** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
  startTicks: number;
}

/** The start time of a process in clock ticks since boot, or undefined if it is gone. */
export async function processStartTicks(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[19]); // field 22 overall = index 19 after fields 1-2
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** True while the process runs (it exists and is not a zombie waiting to be reaped). */
export async function processRuns(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export class FenceTargets {
  constructor(readonly dir: string) {}

  private file(vm: string): string {
    if (!isValidName(vm)) throw new Error(`fence targets: bad VM name ${JSON.stringify(vm)}`);
    return path.join(this.dir, `${vm}.json`);
  }

  /** Records a running HA VM's process (its start time read now). False if the process is already gone. */
  async add(vm: string, pid: number): Promise<boolean> {
    const startTicks = await processStartTicks(pid);
    if (startTicks === undefined) return false;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file(vm), JSON.stringify({ vm, pid, startTicks } satisfies FenceTarget), 0o600);
    return true;
  }

  /** The watchdog notes what it killed (not a target: no `.json` name), for the rejoin to restart. */
  async recordFence(vms: readonly string[]): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path.join(this.dir, 'last-fence'), JSON.stringify({ at: new Date().toISOString(), vms }), 0o600);
  }

  /** The VMs the last fence killed, read once: the note is removed ([] when there is none or it is unreadable). */
  async takeFenced(): Promise<string[]> {
    const file = path.join(this.dir, 'last-fence');
    let vms: unknown;
    try {
      vms = (JSON.parse(await readFile(file, 'utf8')) as { vms?: unknown }).vms;
    } catch {
      return [];
    } finally {
      await rm(file, { force: true });
    }
    return Array.isArray(vms) ? vms.filter((v): v is string => typeof v === 'string' && isValidName(v)) : [];
  }

  async remove(vm: string): Promise<void> {
    await rm(this.file(vm), { force: true });
  }

  async list(): Promise<FenceTarget[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: FenceTarget[] = [];
    for (const n of names.filter((f) => f.endsWith('.json')).sort()) {
      try {
        const t = JSON.parse(await readFile(path.join(this.dir, n), 'utf8')) as FenceTarget;
        if (Number.isInteger(t.pid) && t.pid > 1 && Number.isFinite(t.startTicks)) out.push(t);
      } catch {
        // a file half-written by a crash or garbage: not a target
      }
    }
    return out;
  }
}
