/**
 * Live-migration benchmark (run by hand: `bash bench/run.sh migration`).
 * Polyvisor same-host live migration of the test guest, 256 MiB and 1 GiB,
 * idle (memtest verifying only) and writing 200 MB/s, BENCH_ROUNDS moves of
 * each (default 5); every move is checked with the guest's memtest
 * (heartbeat continues, bad=0). In the same run, the same guest moved back
 * and forth with `virsh migrate --live` between two libvirt daemons on this
 * machine (lib/libvirt-pair.ts), checked the same way. Writes the "migration"
 * section of docs/benchmarks.md. Needs root (libvirt's system daemon, a
 * private mount namespace for the second one).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadGuest } from './lib/guest.js';
import { stopLibvirt, type StartedDaemon } from './lib/libvirt.js';
import { describeMachine } from './lib/machine.js';
import { libvirtMigrations } from './lib/migration-libvirt.js';
import { bootCase, migrateOnce, type MigrationCase, type MigrationSample } from './lib/migration-polyvisor.js';
import { cli, startDaemon, stopDaemon, type Daemon } from './lib/polyvisor.js';
import { qemusMentioning, stopPid } from './lib/proc.js';
import { table, writeSection } from './lib/report.js';
import { summarize } from './lib/stats.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const log = (s: string): void => void process.stderr.write(`[migration] ${s}\n`);

const CASES: MigrationCase[] = [
  { label: '256 MiB idle', memory: '262084Ki', memoryMiB: 256, memtestMb: 128, rateMbps: 0 },
  { label: '256 MiB writing 200 MB/s', memory: '262084Ki', memoryMiB: 256, memtestMb: 128, rateMbps: 200 },
  { label: '1 GiB idle', memory: '1048324Ki', memoryMiB: 1024, memtestMb: 512, rateMbps: 0 },
  { label: '1 GiB writing 200 MB/s', memory: '1048324Ki', memoryMiB: 1024, memtestMb: 512, rateMbps: 200 },
];

const med = (xs: number[]): string => {
  const s = summarize(xs);
  return `${Math.round(s.median)} (${Math.round(s.min)}–${Math.round(s.max)})`;
};

async function main(): Promise<void> {
  if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_ROUNDS must be a positive integer, not ${ROUNDS}`);
  const guest = loadGuest();
  const root = mkdtempSync('/tmp/pvm-');
  let d: Daemon | undefined;
  const rows: string[][] = [];
  const libvirtStarted: StartedDaemon[] = [];
  const notes: string[] = [];
  const row = (who: string, c: MigrationCase, samples: MigrationSample[], passes: boolean): string[] => [
    c.label, who, String(samples.length), med(samples.map((s) => s.totalMs)), med(samples.map((s) => s.downtimeMs)), med(samples.map((s) => s.wallMs)),
    passes ? med(samples.map((s) => s.passes)) : '–', passes ? `${Math.max(...samples.map((s) => s.throttle))}%` : '–',
    String(samples.map((s) => s.rateMbps).sort((a, b) => a - b)[Math.floor(samples.length / 2)]),
    samples.every((s) => s.intact) ? `yes (${samples.length}/${samples.length})` : `NO (${samples.filter((s) => s.intact).length}/${samples.length})`,
  ];
  try {
    d = await startDaemon(root);
    for (const [i, c] of CASES.entries()) {
      const name = `mig${i}`;
      log(`${c.label}: booting`);
      const serialLog = await bootCase(d, guest, name, c, root);
      const samples: MigrationSample[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const s = await migrateOnce(d, name, serialLog);
        log(`${c.label} #${r + 1}: total ${s.totalMs} ms, downtime ${s.downtimeMs} ms, wall ${s.wallMs} ms, ${s.passes} passes, throttle ${s.throttle}%, intact ${s.intact}`);
        samples.push(s);
      }
      await cli(d, 'vm', 'kill', name);
      rows.push(row('Polyvisor', c, samples, true));
      log(`${c.label}: libvirt`);
      const lv = await libvirtMigrations(root, import.meta.dirname, guest, c, ROUNDS, `pvbench-mig${i}`, libvirtStarted);
      notes.push(`${c.label}: libvirt ran QEMU with \`-m ${lv.memoryArg}\`${lv.failure ? `; ${lv.failure}` : ''}.`);
      if (lv.failure) log(`${c.label} libvirt: ${lv.failure}`);
      for (const [r, s] of lv.samples.entries()) log(`${c.label} libvirt #${r + 1}: total ${s.totalMs} ms, downtime ${s.downtimeMs} ms, wall ${s.wallMs} ms, intact ${s.intact}`);
      rows.push(row('libvirt', c, lv.samples, false));
    }
  } finally {
    if (d) await stopDaemon(d).catch(() => undefined);
    await stopLibvirt(libvirtStarted).catch(() => undefined);
    for (const pid of qemusMentioning(root)) await stopPid(pid, 'SIGKILL').catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
  const m = await describeMachine('qemu-system-x86_64');
  const body = [
    '## Live migration (same host)',
    '',
    `${m.date}; ${m.nproc} cores (${m.cpu}), ${m.memoryGiB} GiB, ${m.qemu}, Node ${m.node}; load before: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}.`,
    'Polyvisor `vm migrate` with the policy defaults (downtime limit 50 ms, unlimited bandwidth, auto-converge), TCG,',
    'unix socket between two QEMU processes. RAM 262084Ki / 1048324Ki (not multiples of 256 KiB: QEMU 7.2 TCG bug);',
    'memtest over 128 / 512 MiB. Times in ms, median (min–max) over the rounds; total and downtime are QEMU\'s,',
    'wall is the whole operation including starting the target QEMU. "intact": after every move the guest\'s',
    'heartbeat went on in the new process with bad=0.',
    '',
    'libvirt: the same guest and RAM size as a libvirt domain (q35, cpu mode maximum), moved back and forth with',
    '`virsh migrate --live` between the system libvirtd and a second libvirtd in a private mount namespace (own state',
    'dirs, host UUID), over TCP on 127.0.0.1, libvirt defaults otherwise (unlimited bandwidth, QEMU\'s 300 ms',
    'downtime limit); total and downtime from `virsh domjobinfo --completed`, wall = the `virsh migrate` command.',
    '',
    table(['case', 'who', 'moves', 'total', 'downtime', 'wall', 'passes', 'max throttle', 'guest MB/s', 'intact'], rows),
    '',
    ...notes.map((n) => `- ${n}`),
  ].join('\n');
  process.stdout.write(`${body}\n`);
  writeSection(path.join(path.resolve(import.meta.dirname, '..'), 'docs', 'benchmarks.md'), 'migration', body);
}

main().catch((err: unknown) => {
  process.stderr.write(`[migration] failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
