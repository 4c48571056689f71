/**
 * A cgroup per VM (audit defect 5): QEMU's CPU time, memory and thread count
 * are capped from the spec, so one guest (or a QEMU an escape has taken over)
 * cannot starve the host. cgroup v2 (`cpu.max`, `memory.max`, `pids.max`)
 * where the unified hierarchy is mounted at the root, else v1 (`cpu`,
 * `memory`, `pids` controllers). The groups live under `polyvisor/vm-<id>`.
 *
 * QEMU is moved in right after it is spawned, before it allocates guest RAM or
 * starts its vCPU threads (threads follow the process). Where the hierarchy
 * cannot be written (a container without delegation), the VM runs without
 * limits and `probe()` says why (doctor reports it).
 */
import { access, mkdir, readdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sleep, type Logger } from '../../shared/index.js';
import type { VmSpec } from '../../spec/index.js';
import type { Accel } from '../driver.js';

export interface CgroupLimits {
  /** CPU time per period, in µs (period 100 ms). */
  cpuQuotaUs: number;
  cpuPeriodUs: number;
  memoryBytes: number;
  pids: number;
}

const MiB = 1024 ** 2;
/** QEMU's own memory beside guest RAM: device models, I/O buffers; TCG adds its translation cache. */
const OVERHEAD = { kvm: 384 * MiB, tcg: 1280 * MiB } as const;

/**
 * Limits from the spec: the vCPUs plus one core for QEMU's own threads (I/O,
 * migration, the monitor); guest RAM plus overhead (and a quarter of RAM for
 * page tables and caches); 1,024 threads. Pure.
 */
export function cgroupLimits(spec: Pick<VmSpec, 'cpu' | 'memory'>, accel: Accel): CgroupLimits {
  const period = 100_000;
  return {
    cpuPeriodUs: period,
    cpuQuotaUs: (spec.cpu.count + 1) * period,
    memoryBytes: spec.memory + Math.ceil(spec.memory / 4) + OVERHEAD[accel === 'kvm' ? 'kvm' : 'tcg'],
    pids: 1024,
  };
}

/** The files to write, per cgroup directory, for these limits. Pure. */
export function limitFiles(version: 'v1' | 'v2', l: CgroupLimits): Record<string, Record<string, string>> {
  if (version === 'v2') {
    return { '': { 'cpu.max': `${l.cpuQuotaUs} ${l.cpuPeriodUs}`, 'memory.max': String(l.memoryBytes), 'pids.max': String(l.pids) } };
  }
  return {
    cpu: { 'cpu.cfs_period_us': String(l.cpuPeriodUs), 'cpu.cfs_quota_us': String(l.cpuQuotaUs) },
    memory: { 'memory.limit_in_bytes': String(l.memoryBytes) },
    pids: { 'pids.max': String(l.pids) },
  };
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

export class VmCgroups {
  private version: Promise<'v1' | 'v2' | { unavailable: string }> | undefined;

  constructor(private readonly root = '/sys/fs/cgroup', private readonly log?: Logger) {}

  /** Which hierarchy is used, or why none can be (checked once, by making and removing a group). */
  probe(): Promise<'v1' | 'v2' | { unavailable: string }> {
    this.version ??= this.detect();
    return this.version;
  }

  /** The group directories of VM `vmId` (one for v2, one per controller for v1). */
  async dirs(vmId: string): Promise<Record<string, string>> {
    const v = await this.probe();
    if (typeof v !== 'string') return {};
    const leaf = path.join('polyvisor', `vm-${vmId}`);
    if (v === 'v2') return { '': path.join(this.root, leaf) };
    return Object.fromEntries(['cpu', 'memory', 'pids'].map((c) => [c, path.join(this.root, c, leaf)]));
  }

  /**
   * Makes VM `vmId`'s groups with `limits` and moves `pid` into them. Returns the
   * directories, or undefined (logged) when cgroups cannot be used here.
   */
  async place(vmId: string, pid: number, limits: CgroupLimits): Promise<string[] | undefined> {
    const v = await this.probe();
    if (typeof v !== 'string') return undefined;
    const dirs = await this.dirs(vmId);
    const files = limitFiles(v, limits);
    try {
      for (const [ctrl, dir] of Object.entries(dirs)) {
        await rmdir(dir).catch(() => undefined); // an earlier run's, now empty
        await mkdir(dir, { recursive: true });
        for (const [f, value] of Object.entries(files[ctrl] ?? {})) await writeFile(path.join(dir, f), value);
        await writeFile(path.join(dir, 'cgroup.procs'), String(pid));
      }
      return Object.values(dirs);
    } catch (err) {
      this.log?.warn({ err, vmId }, 'could not place QEMU in its cgroup; the VM runs without CPU, memory and thread limits');
      return undefined;
    }
  }

  /** Removes VM `vmId`'s groups once their processes are gone (retrying briefly while the kernel lets go). */
  async remove(vmId: string): Promise<void> {
    for (const dir of Object.values(await this.dirs(vmId))) {
      for (let i = 0; i < 20; i++) {
        const err = await rmdir(dir).then(() => undefined, (e: NodeJS.ErrnoException) => e);
        if (!err || err.code === 'ENOENT') break;
        if (err.code !== 'EBUSY') {
          this.log?.warn({ err, dir }, 'could not remove a VM cgroup');
          break;
        }
        await sleep(100);
      }
    }
  }

  private async detect(): Promise<'v1' | 'v2' | { unavailable: string }> {
    let version: 'v1' | 'v2';
    if (await exists(path.join(this.root, 'cgroup.controllers'))) {
      version = 'v2';
      const base = path.join(this.root, 'polyvisor');
      try {
        await writeFile(path.join(this.root, 'cgroup.subtree_control'), '+cpu +memory +pids').catch(() => undefined);
        await mkdir(base, { recursive: true });
        await writeFile(path.join(base, 'cgroup.subtree_control'), '+cpu +memory +pids');
      } catch (err) {
        return { unavailable: `cgroup v2 at ${this.root} does not let Polyvisor enable cpu, memory and pids (${(err as Error).message})` };
      }
    } else {
      const have = await Promise.all(['cpu', 'memory', 'pids'].map((c) => exists(path.join(this.root, c, 'cgroup.procs'))));
      if (have.includes(false)) return { unavailable: `no cgroup v2 at ${this.root}, and the v1 cpu, memory and pids controllers are not all mounted there` };
      version = 'v1';
    }
    // Proof by doing: make and remove a probe group in every hierarchy.
    const probeDirs = version === 'v2' ? [path.join(this.root, 'polyvisor', 'probe')] : ['cpu', 'memory', 'pids'].map((c) => path.join(this.root, c, 'polyvisor', 'probe'));
    try {
      for (const d of probeDirs) {
        await mkdir(d, { recursive: true });
        await readdir(d);
        await rmdir(d);
      }
    } catch (err) {
      return { unavailable: `cannot make cgroups under ${this.root} (${(err as Error).message}); run the daemon as root with a writable cgroup hierarchy` };
    }
    return version;
  }
}
