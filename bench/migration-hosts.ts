/**
 * Host-to-host live-migration benchmark (run by hand: `bash bench/run.sh
 * migration-hosts`). Two polyvisord on 127.0.0.1 and 127.0.0.2 with their
 * own state directories; the test guest (256 MiB and 1 GiB, idle and writing 200 MB/s)
 * moved back and forth BENCH_ROUNDS times (default 3), side by side, in the
 * same run, with Polyvisor's same-host move and with `virsh migrate --live`
 * between two libvirt daemons (BENCH_LIBVIRT=0 skips libvirt). Every move is
 * checked with the guest's memtest (heartbeat goes on, bad=0). Writes the
 * "migration-hosts" section of docs/benchmarks.md.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MigrateRequest, MigrationResultView } from '../src/client/index.js';
import { loadGuest } from './lib/guest.js';
import { stopLibvirt, type StartedDaemon } from './lib/libvirt.js';
import { describeMachine } from './lib/machine.js';
import { libvirtMigrations } from './lib/migration-libvirt.js';
import { linkMiBps } from './lib/link.js';
import { side, type Side } from './lib/migration-disk-polyvisor.js';
import { heartbeats, type MigrationCase } from './lib/migration-polyvisor.js';
import { stopDaemon } from './lib/polyvisor.js';
import { qemusMentioning, sleep, stopPid } from './lib/proc.js';
import { table, writeSection } from './lib/report.js';
import { summarize } from './lib/stats.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const LIBVIRT = process.env['BENCH_LIBVIRT'] !== '0';
/** BENCH_CASES=2,4 runs only those cases (0-based, as listed below); BENCH_KEEP=1 keeps the daemons' state dirs and logs. */
const ONLY = process.env['BENCH_CASES']?.split(',').map(Number);
const KEEP = process.env['BENCH_KEEP'] === '1';
/**
 * BENCH_TCP_RMEM_MAX=6291456 sets the kernel's TCP receive buffer limit (net.ipv4.tcp_rmem, max) for the run and
 * restores it afterwards: how far a stream can run ahead of the target (doctor's migration-buffers check).
 */
const RMEM_FILE = '/proc/sys/net/ipv4/tcp_rmem';
const RMEM_MAX = process.env['BENCH_TCP_RMEM_MAX'];
const log = (s: string): void => void process.stderr.write(`[migration-hosts] ${s}\n`);

/** Bandwidth cap (MiB/s) of the "link-bound" cases: slower than QEMU under TCG can send, so the link, not the CPU, limits. */
const CAP = Number(process.env['BENCH_LINK_CAP'] ?? 256);
type Case = MigrationCase & { capMiBps?: number };
const CASES: Case[] = [
  { label: '256 MiB idle', memory: '262084Ki', memoryMiB: 256, memtestMb: 128, rateMbps: 0 },
  { label: '256 MiB writing 200 MB/s', memory: '262084Ki', memoryMiB: 256, memtestMb: 128, rateMbps: 200 },
  { label: '1 GiB idle', memory: '1048324Ki', memoryMiB: 1024, memtestMb: 512, rateMbps: 0 },
  { label: '1 GiB writing 200 MB/s', memory: '1048324Ki', memoryMiB: 1024, memtestMb: 512, rateMbps: 200 },
  { label: `1 GiB idle, link capped at ${CAP} MiB/s`, memory: '1048324Ki', memoryMiB: 1024, memtestMb: 512, rateMbps: 0, capMiBps: CAP },
  { label: `1 GiB writing 100 MB/s, link capped at ${CAP} MiB/s`, memory: '1048324Ki', memoryMiB: 1024, memtestMb: 512, rateMbps: 100, capMiBps: CAP },
];

interface Sample { totalMs: number; downtimeMs: number; pauseMs: number; wallMs: number; intact: boolean; passes: number; throttle: number; rateMbps: number }

/** The guest's heartbeat goes on at least 3 times after `hb0` on `s`, all bad=0. */
async function intact(s: Side, name: string, hb0: number): Promise<boolean> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = await s.vm.serialLog(name, 4 * 1024 * 1024);
    const hbs = heartbeats(text);
    if ((hbs.at(-1)?.hb ?? 0) >= hb0 + 3) return hbs.every((h) => h.bad === 0) && !text.includes('MEMTEST BAD');
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}

async function move(from: Side, to: Side | undefined, name: string, capMiBps?: number): Promise<Sample> {
  const before = heartbeats(await from.vm.serialLog(name, 4 * 1024 * 1024));
  const hb0 = before.at(-1)?.hb ?? 0;
  const rates = before.slice(-5).map((h) => h.rate).sort((x, y) => x - y);
  const req: MigrateRequest = { ...(to ? { target: { url: to.url, token: to.token } } : {}), ...(capMiBps ? { bandwidthMiBps: capMiBps } : {}) };
  const r: MigrationResultView = await from.mig.migrate(name, req);
  const commit = r.commitMs ?? 0;
  return {
    totalMs: r.stats.totalTimeMs, downtimeMs: r.stats.downtimeMs, pauseMs: r.stats.downtimeMs + commit, wallMs: r.wallMs, intact: await intact(to ?? from, name, hb0),
    passes: r.stats.iterations, throttle: r.stats.cpuThrottlePercent, rateMbps: rates[Math.floor(rates.length / 2)] ?? 0,
  };
}

const med = (xs: number[]): string => {
  const s = summarize(xs);
  return `${Math.round(s.median)} (${Math.round(s.min)}–${Math.round(s.max)})`;
};

async function main(): Promise<void> {
  const guest = loadGuest();
  const root = mkdtempSync('/tmp/pvmh-');
  const rows: string[][] = [];
  const notes: string[] = [];
  const libvirtStarted: StartedDaemon[] = [];
  let a: Side | undefined;
  let b: Side | undefined;
  const rmemBefore = readFileSync(RMEM_FILE, 'utf8').trim();
  if (RMEM_MAX) writeFileSync(RMEM_FILE, `${rmemBefore.split(/\s+/).slice(0, 2).join(' ')} ${Number(RMEM_MAX)}`);
  const rmem = readFileSync(RMEM_FILE, 'utf8').trim().split(/\s+/);
  log(`net.ipv4.tcp_rmem: ${rmem.join(' ')}${RMEM_MAX ? ` (set for this run; was ${rmemBefore})` : ''}`);
  const link = await linkMiBps('127.0.0.1', '127.0.0.2');
  log(`link 127.0.0.1 → 127.0.0.2: ${Math.round(link)} MiB/s`);
  /** RAM ÷ bandwidth in ms, and the median total over it, for moves that cross the TCP link. */
  const ideal = (c: Case): number => (c.memoryMiB / (c.capMiBps ?? link)) * 1000;
  /** The same link measured while this case's guest runs (its vCPU shares the 2 cores with both ends of the stream). */
  const busyLink = new Map<Case, number>();
  const vsLink = (c: Case, s: Sample[], tcp: boolean): string[] => {
    if (!tcp) return ['–', '–', '–'];
    const total = summarize(s.map((x) => x.totalMs)).median;
    const busy = c.capMiBps ? undefined : busyLink.get(c);
    return [String(Math.round(ideal(c))), (total / ideal(c)).toFixed(2), busy ? `${Math.round(busy)} / ${(total / ((c.memoryMiB / busy) * 1000)).toFixed(2)}` : '–'];
  };
  const row = (c: Case, who: string, s: Sample[], pause: boolean, passes = true, tcp = true): string[] => [
    c.label, who, String(s.length), med(s.map((x) => x.totalMs)), ...vsLink(c, s, tcp), med(s.map((x) => x.downtimeMs)), pause ? med(s.map((x) => x.pauseMs)) : '–',
    med(s.map((x) => x.wallMs)), passes ? med(s.map((x) => x.passes)) : '–', passes ? `${Math.max(...s.map((x) => x.throttle))}%` : '–',
    med(s.map((x) => x.rateMbps)), s.every((x) => x.intact) ? `yes (${s.length}/${s.length})` : `NO (${s.filter((x) => x.intact).length}/${s.length})`,
  ];
  try {
    a = await side(path.join(root, 'a'), '127.0.0.1:0');
    b = await side(path.join(root, 'b'), '127.0.0.2:0');
    for (const [i, c] of CASES.entries()) {
      if (ONLY && !ONLY.includes(i)) continue;
      const name = `mh${i}`;
      await a.vm.createVm({ name, memory: c.memory, boot: { kernel: guest.kernel, initrd: guest.initrd, cmdline: `${guest.cmdline} pv.name=${name} pv.memtest=${c.memtestMb}:${c.rateMbps}` } });
      await a.vm.action(name, 'start');
      while ((heartbeats(await a.vm.serialLog(name, 4 * 1024 * 1024)).at(-1)?.hb ?? 0) < 3) await sleep(300);
      if (!c.capMiBps) {
        busyLink.set(c, await linkMiBps('127.0.0.1', '127.0.0.2', 512));
        log(`${c.label}: link with the guest running ${Math.round(busyLink.get(c)!)} MiB/s`);
      }
      const same: Sample[] = [];
      if (!c.capMiBps) for (let r = 0; r < ROUNDS; r++) same.push(await move(a, undefined, name));
      const hosts: Sample[] = [];
      let [from, to] = [a, b];
      for (let r = 0; r < ROUNDS; r++) {
        const s = await move(from, to, name, c.capMiBps);
        log(`${c.label} host-to-host #${r + 1}: total ${s.totalMs} ms, downtime ${s.downtimeMs} ms, pause ${s.pauseMs} ms, wall ${s.wallMs} ms, ${s.passes} passes, throttle ${s.throttle}%, guest ${s.rateMbps} MB/s, intact ${s.intact}`);
        hosts.push(s);
        [from, to] = [to, from];
      }
      await from.vm.removeVm(name, { force: true });
      if (same.length) rows.push(row(c, 'Polyvisor, same host (unix socket)', same, false, true, false));
      rows.push(row(c, 'Polyvisor, host to host (TCP, 127.0.0.1 → 127.0.0.2)', hosts, true));
      for (const [k, x] of same.entries()) log(`${c.label} same host #${k + 1}: total ${x.totalMs} ms, downtime ${x.downtimeMs} ms, ${x.passes} passes, throttle ${x.throttle}%, guest ${x.rateMbps} MB/s`);
      if (LIBVIRT && !c.capMiBps) {
        const lv = await libvirtMigrations(root, import.meta.dirname, guest, c, ROUNDS, `pvbench-mh${i}`, libvirtStarted);
        if (lv.failure) notes.push(`${c.label}, libvirt: ${lv.failure}`);
        rows.push(row(c, 'libvirt `virsh migrate --live`', lv.samples.map((s) => ({ ...s, pauseMs: s.downtimeMs })), false, false));
      }
    }
  } finally {
    if (RMEM_MAX) writeFileSync(RMEM_FILE, rmemBefore);
    for (const s of [a, b]) if (s) await stopDaemon(s.d).catch(() => undefined);
    await stopLibvirt(libvirtStarted).catch(() => undefined);
    for (const pid of qemusMentioning(root)) await stopPid(pid, 'SIGKILL').catch(() => undefined);
    if (KEEP) log(`kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
  const m = await describeMachine('qemu-system-x86_64');
  const body = [
    '## Live migration between two daemons',
    '',
    `${m.date}; ${m.nproc} cores (${m.cpu}), ${m.memoryGiB} GiB, ${m.qemu}, Node ${m.node}; load before: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}.`,
    'Two polyvisord on 127.0.0.1 and 127.0.0.2 (own state directories and stores); the test guest (262084Ki / 1048324Ki,',
    'memtest over 128 / 512 MiB) moved back and forth with policy defaults, no disks (disk mirroring: test/migration-hosts.test.ts).',
    'Times in ms, median (min–max). total/downtime are QEMU\'s; "pause" = downtime + the commit round trip (the target',
    'keeps the guest paused under -S until the source\'s commit reaches it, so this is what the guest really sees);',
    'wall = the whole operation (target preparation, compatibility check and commit included).',
    `TCP receive buffers (net.ipv4.tcp_rmem max): ${Math.round(Number(rmem[2]) / 1024 ** 2)} MiB${RMEM_MAX ? ', set for this run (BENCH_TCP_RMEM_MAX)' : ', as the host has it'}.`,
    `Link: one TCP stream 127.0.0.1 → 127.0.0.2 measured at ${Math.round(link)} MiB/s (median of 3 × 1 GiB, bench/lib/link.ts) before the daemons started.`,
    '"RAM ÷ link" = guest RAM over that bandwidth (or over the cap in the capped cases, where Polyvisor sets the',
    'migration bandwidth to the cap); "total ÷" = median total over it. Goal: total within 1.5× of RAM ÷ link.',
    '"busy link / total ÷" = the same link measured (3 × 512 MiB) while the case\'s guest runs, before its first move, and',
    'the median total over RAM ÷ that: under TCG the guest\'s vCPU takes one of the 2 cores from the stream\'s two ends.',
    '',
    table(['case', 'who', 'moves', 'total', 'RAM ÷ link', 'total ÷', 'busy link / total ÷', 'downtime', 'pause', 'wall', 'passes', 'max throttle', 'guest MB/s', 'intact'], rows),
    '',
    ...notes.map((n) => `- ${n}`),
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (ONLY) return; // a partial run does not replace the section
  writeSection(path.join(path.resolve(import.meta.dirname, '..'), 'docs', 'benchmarks.md'), 'migration-hosts', body);
}

main().catch((err: unknown) => {
  process.stderr.write(`[migration-hosts] failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
