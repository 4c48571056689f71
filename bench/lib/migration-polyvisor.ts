/** Polyvisor's side of the migration benchmark: one VM per case, migrated repeatedly through the CLI. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Guest } from './guest.js';
import { cliOk, show, type Daemon } from './polyvisor.js';
import { sleep } from './proc.js';

export interface MigrationCase {
  label: string;
  /** Memory as Polyvisor takes it (not a multiple of 256 KiB: the QEMU 7.2 TCG bug). */
  memory: string;
  memoryMiB: number;
  memtestMb: number;
  rateMbps: number;
}

export interface MigrationSample {
  totalMs: number;
  downtimeMs: number;
  wallMs: number;
  passes: number;
  throttle: number;
  /** Heartbeats after the move all bad=0, and at least 3 of them. */
  intact: boolean;
  rateMbps: number;
}

interface Hb { hb: number; bad: number; rate: number }

export function heartbeats(log: string): Hb[] {
  const out: Hb[] = [];
  for (const m of log.matchAll(/MEMTEST hb=(\d+) sweeps=\d+ written_mb=\d+ bad=(\d+) rate_mbps=(\d+)/g)) {
    out.push({ hb: Number(m[1]), bad: Number(m[2]), rate: Number(m[3]) });
  }
  return out;
}

async function waitHb(serialLog: string, after: number, timeoutMs: number): Promise<Hb[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hbs = heartbeats(readFileSync(serialLog, 'utf8'));
    if ((hbs.at(-1)?.hb ?? 0) > after) return hbs;
    if (Date.now() > deadline) throw new Error(`no memtest heartbeat after ${after} in ${serialLog}`);
    await sleep(200);
  }
}

/** Creates and starts the VM, waits for memtest to run; returns its serial log. */
export async function bootCase(d: Daemon, g: Guest, name: string, c: MigrationCase, specDir: string): Promise<string> {
  const spec = {
    name, memory: c.memory,
    boot: { kernel: g.kernel, initrd: g.initrd, cmdline: `${g.cmdline} pv.name=${name} pv.memtest=${c.memtestMb}:${c.rateMbps}` },
  };
  const file = path.join(specDir, `${name}.json`);
  writeFileSync(file, JSON.stringify(spec));
  await cliOk(d, 'vm', 'create', name, '--from', file);
  await cliOk(d, 'vm', 'start', name);
  const { serialLog } = (await show(d, name)).files;
  await waitHb(serialLog, 3, 120_000);
  return serialLog;
}

export async function migrateOnce(d: Daemon, name: string, serialLog: string): Promise<MigrationSample> {
  const before = heartbeats(readFileSync(serialLog, 'utf8'));
  const hb0 = before.at(-1)?.hb ?? 0;
  const r = JSON.parse(await cliOk(d, 'vm', 'migrate', name, '--json', '--no-progress')) as {
    wallMs: number; stats: { totalTimeMs: number; downtimeMs: number; iterations: number; cpuThrottlePercent: number };
  };
  const after = await waitHb(serialLog, hb0 + 3, 60_000);
  const moved = after.filter((h) => h.hb > hb0);
  const rates = before.slice(-5).map((h) => h.rate).sort((a, b) => a - b);
  return {
    totalMs: r.stats.totalTimeMs, downtimeMs: r.stats.downtimeMs, wallMs: r.wallMs, passes: r.stats.iterations,
    throttle: r.stats.cpuThrottlePercent,
    intact: moved.length >= 3 && after.every((h) => h.bad === 0) && !readFileSync(serialLog, 'utf8').includes('MEMTEST BAD'),
    rateMbps: rates[Math.floor(rates.length / 2)] ?? 0,
  };
}
