/**
 * Live-migration benchmark (run by hand: `bash bench/run.sh migration`).
 * Polyvisor same-host live migration of the test guest, 256 MiB and 1 GiB,
 * idle (memtest verifying only) and writing 200 MB/s, BENCH_ROUNDS moves of
 * each (default 5); every move is checked with the guest's memtest
 * (heartbeat continues, bad=0). Writes the "migration" section of
 * docs/benchmarks.md.
 *
 * The libvirt peer (`virsh migrate --live` between two libvirt daemons on
 * this machine) is not automated yet: see docs/migration.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadGuest } from './lib/guest.js';
import { describeMachine } from './lib/machine.js';
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
      rows.push([
        c.label, String(ROUNDS), med(samples.map((s) => s.totalMs)), med(samples.map((s) => s.downtimeMs)), med(samples.map((s) => s.wallMs)),
        med(samples.map((s) => s.passes)), `${Math.max(...samples.map((s) => s.throttle))}%`, String(samples.map((s) => s.rateMbps).sort((a, b) => a - b)[Math.floor(samples.length / 2)]),
        samples.every((s) => s.intact) ? `yes (${ROUNDS}/${ROUNDS})` : `NO (${samples.filter((s) => s.intact).length}/${ROUNDS})`,
      ]);
    }
  } finally {
    if (d) await stopDaemon(d).catch(() => undefined);
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
    table(['case', 'moves', 'total', 'downtime', 'wall', 'passes', 'max throttle', 'guest MB/s', 'intact'], rows),
    '',
    'libvirt (`virsh migrate --live`) is not measured in the same run yet; FACTS.md has one earlier figure for an',
    'idle 256 MiB guest: 5.1 s elapsed, 87 ms downtime.',
  ].join('\n');
  process.stdout.write(`${body}\n`);
  writeSection(path.join(path.resolve(import.meta.dirname, '..'), 'docs', 'benchmarks.md'), 'migration', body);
}

main().catch((err: unknown) => {
  process.stderr.write(`[migration] failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
