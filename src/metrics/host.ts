/** Host counters from /proc: CPU time by mode, memory, load, block devices, network interfaces. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const USER_HZ = 100;
const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

export interface HostSample {
  cpuSeconds: Record<string, number>;
  cpus: number;
  memTotalBytes: number;
  memAvailableBytes: number;
  swapTotalBytes: number;
  swapFreeBytes: number;
  load: [number, number, number];
  disks: Array<{ device: string; readBytes: number; writeBytes: number; reads: number; writes: number }>;
  nets: Array<{ iface: string; rxBytes: number; rxPackets: number; txBytes: number; txPackets: number }>;
}

export function parseProcStat(text: string): { cpuSeconds: Record<string, number>; cpus: number } {
  const lines = text.split('\n');
  const total = (lines.find((l) => l.startsWith('cpu ')) ?? '').trim().split(/\s+/).slice(1).map(Number);
  const cpuSeconds: Record<string, number> = {};
  CPU_MODES.forEach((m, i) => (cpuSeconds[m] = (total[i] ?? 0) / USER_HZ));
  return { cpuSeconds, cpus: lines.filter((l) => /^cpu\d+ /.test(l)).length };
}

export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(\w+):\s+(\d+)(?: kB)?$/gm)) out[m[1]!] = Number(m[2]) * 1024;
  return out;
}

export function parseNetDev(text: string): HostSample['nets'] {
  return text.split('\n').slice(2).map((l) => l.trim()).filter(Boolean).map((l) => {
    const [iface, rest] = l.split(':') as [string, string];
    const f = rest.trim().split(/\s+/).map(Number);
    return { iface: iface.trim(), rxBytes: f[0] ?? 0, rxPackets: f[1] ?? 0, txBytes: f[8] ?? 0, txPackets: f[9] ?? 0 };
  }).filter((n) => n.iface !== 'lo');
}

/** Whole block devices only (those in /sys/block), minus loop and ram devices. */
export function parseDiskstats(text: string, isWholeDisk: (d: string) => boolean): HostSample['disks'] {
  return text.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 14).flatMap((f) => {
    const device = f[2]!;
    if (/^(loop|ram)\d/.test(device) || !isWholeDisk(device)) return [];
    return [{ device, reads: Number(f[3]), readBytes: Number(f[5]) * 512, writes: Number(f[7]), writeBytes: Number(f[9]) * 512 }];
  });
}

export async function readHost(): Promise<HostSample> {
  const [stat, mem, load, disk, net] = await Promise.all(
    ['/proc/stat', '/proc/meminfo', '/proc/loadavg', '/proc/diskstats', '/proc/net/dev'].map((f) => readFile(f, 'utf8').catch(() => '')),
  ) as [string, string, string, string, string];
  const m = parseMeminfo(mem);
  const l = load.split(' ').slice(0, 3).map(Number);
  return {
    ...parseProcStat(stat),
    memTotalBytes: m['MemTotal'] ?? 0,
    memAvailableBytes: m['MemAvailable'] ?? 0,
    swapTotalBytes: m['SwapTotal'] ?? 0,
    swapFreeBytes: m['SwapFree'] ?? 0,
    load: [l[0] ?? 0, l[1] ?? 0, l[2] ?? 0],
    disks: parseDiskstats(disk, (d) => existsSync(`/sys/block/${d}`)),
    nets: parseNetDev(net),
  };
}
