/**
 * VmStats of a QEMU process: vCPU thread times from query-cpus-fast thread ids
 * and /proc/<pid>/task/<tid>/stat, process CPU and RSS from /proc, the balloon
 * from query-balloon and the guest's own memory figures from its statistics
 * (balloon.ts), disk counters from query-blockstats. User-mode (slirp)
 * NICs keep no counters QMP can report: `nics` comes from the guest agent
 * (nic-stats.ts) when the caller passes one. `numa`: guest RAM per host
 * NUMA node from /proc/PID/numa_maps (numa-locality.ts).
 */
import { readFile } from 'node:fs/promises';
import type { QmpClient } from '../../qmp/index.js';
import type { VmSpec } from '../../spec/index.js';
import type { DiskCounters, NicCounters, VmStats } from '../stats.js';
import type { NumaLocality } from '../numa.js';
import type { GuestBalloon } from './balloon.js';
import { diskNodes } from './names.js';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat on Linux (100 on every mainstream arch). */
const CLOCK_TICKS = 100;

interface BlockStat {
  device?: string;
  qdev?: string;
  'node-name'?: string;
  stats: {
    rd_bytes: number; wr_bytes: number; rd_operations: number; wr_operations: number; flush_operations: number;
    rd_total_time_ns: number; wr_total_time_ns: number;
  };
}

/** utime + stime of a /proc stat line, seconds (the comm field may hold spaces and parens). */
export function cpuSecondsOfStat(line: string): number | null {
  const rest = line.slice(line.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  const ut = Number(rest[11]);
  const st = Number(rest[12]);
  return Number.isFinite(ut) && Number.isFinite(st) ? (ut + st) / CLOCK_TICKS : null;
}

async function procCpu(file: string): Promise<number | null> {
  try {
    return cpuSecondsOfStat(await readFile(file, 'utf8'));
  } catch {
    return null;
  }
}

async function rss(pid: number): Promise<number | null> {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export interface GuestSources {
  /** Per-NIC counters from the guest agent. */
  nics?: { read(signal: AbortSignal): Promise<NicCounters[]> };
  /** The guest's memory from the balloon's statistics. */
  balloon?: Pick<GuestBalloon, 'read'>;
  /** Where guest RAM sits on the host's NUMA nodes (numa-locality.ts); null when /proc could not be read. */
  numa?: () => Promise<NumaLocality | null>;
}

export async function collectQemuStats(qmp: QmpClient, pid: number, spec: VmSpec, signal: AbortSignal, guest: GuestSources = {}): Promise<VmStats> {
  const monitorCalls: VmStats['monitorCalls'] = [];
  const call = async <T>(command: string): Promise<T | null> => {
    const t0 = performance.now();
    try {
      return await qmp.execute<T>(command, undefined, { signal });
    } catch (err) {
      if (signal.aborted) throw err;
      return null; // e.g. query-balloon without a balloon device
    } finally {
      monitorCalls.push({ command, seconds: (performance.now() - t0) / 1000 });
    }
  };
  const cpus = (await call<Array<{ 'cpu-index': number; 'thread-id': number }>>('query-cpus-fast')) ?? [];
  const blocks = (await call<BlockStat[]>('query-blockstats')) ?? [];
  const balloon = await call<{ actual: number }>('query-balloon'); // null: no balloon device
  const t0 = performance.now();
  const guestMemory = guest.balloon ? await guest.balloon.read(signal).catch((err: unknown) => {
    if (signal.aborted) throw err;
    return null;
  }) : null;
  if (guest.balloon) monitorCalls.push({ command: 'qom-get guest-stats', seconds: (performance.now() - t0) / 1000 });
  const vcpuSeconds: VmStats['vcpuSeconds'] = [];
  for (const c of cpus) {
    const s = await procCpu(`/proc/${pid}/task/${c['thread-id']}/stat`);
    if (s !== null) vcpuSeconds.push({ vcpu: c['cpu-index'], seconds: s });
  }
  return {
    cpuSeconds: await procCpu(`/proc/${pid}/stat`),
    vcpuSeconds,
    rssBytes: await rss(pid),
    balloonBytes: balloon?.actual ?? null,
    guestMemory,
    disks: diskCounters(spec, blocks),
    nics: guest.nics ? await guest.nics.read(signal) : [],
    monitorCalls,
    ...(guest.numa ? { numa: await guest.numa() } : {}),
  };
}

/** Matches blockstats entries to spec disks by the ids the argv builder gave them. */
export function diskCounters(spec: VmSpec, blocks: BlockStat[]): DiskCounters[] {
  const out: DiskCounters[] = [];
  for (const d of spec.disks) {
    const n = diskNodes(d.name);
    const b = blocks.find((x) => x['node-name'] === n.format || x.qdev === n.device || (x.qdev ?? '').includes(`/${n.device}/`) || x.device === n.device);
    if (!b) continue;
    const s = b.stats;
    out.push({
      disk: d.name,
      readBytes: s.rd_bytes, writeBytes: s.wr_bytes, readOps: s.rd_operations, writeOps: s.wr_operations, flushOps: s.flush_operations,
      readSeconds: s.rd_total_time_ns / 1e9, writeSeconds: s.wr_total_time_ns / 1e9,
    });
  }
  return out;
}
