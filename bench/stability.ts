/**
 * Stability run (issue 27; run by hand: `bash bench/run.sh stability`). Two
 * polyvisord (127.0.0.1 and 127.0.0.2, own state directories) and 4 VMs of the
 * test guest with a data disk, each cycled for BENCH_MINUTES (default 60; the
 * seed asks 24 h: BENCH_MINUTES=1440) through start → snapshot (the previous
 * one removed) → backup (pruned to the last 2) → live move to the other daemon
 * → stop, the four loops at once. Daemon RSS, open fds, QEMU processes and
 * disk use are sampled after the first round and at the end (and every round
 * for the maximum); the guest's memtest must stay bad=0 on every start. Writes
 * the "stability" section of docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BackupClient, SnapshotClient } from '../src/client/index.js';
import { loadGuest } from './lib/guest.js';
import { describeMachine, loadNow } from './lib/machine.js';
import { side, type Side } from './lib/migration-disk-polyvisor.js';
import { stopDaemon } from './lib/polyvisor.js';
import { qemusMentioning, sleep, stopPid } from './lib/proc.js';
import { table, writeSection } from './lib/report.js';

const MINUTES = Number(process.env['BENCH_MINUTES'] ?? 60);
const VMS = Number(process.env['BENCH_VMS'] ?? 4);
const log = (s: string): void => void process.stderr.write(`[stability] ${new Date().toISOString().slice(11, 19)} ${s}\n`);

interface Sample { at: number; rssMiB: number[]; fds: number[]; qemus: number; diskMiB: number }

const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const fds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
const duMiB = (dirs: string[]): number => Number(execFileSync('du', ['-sb', '--total', ...dirs], { encoding: 'utf8' }).trim().split('\n').at(-1)!.split(/\s+/)[0]) / 1024 ** 2;

function sample(sides: Side[], dirs: string[], t0: number): Sample {
  return {
    at: Math.round((Date.now() - t0) / 1000), rssMiB: sides.map((s) => rssMiB(s.d.pid)), fds: sides.map((s) => fds(s.d.pid)),
    qemus: dirs.reduce((a, d) => a + qemusMentioning(d).length, 0), diskMiB: duMiB(dirs),
  };
}

/** The daemon starts each boot's serial log afresh (seen: one ready line per log), so any ready line in it is this boot's. */
async function waitReady(s: Side, name: string, readyLine: string): Promise<void> {
  // Generous: on a busy host a TCG boot can take minutes (the point here is growth, not speed).
  const deadline = Date.now() + 600_000;
  for (;;) {
    const text = await s.vm.serialLog(name, 4 * 1024 * 1024);
    if (text.includes(readyLine)) return;
    if (Date.now() > deadline) throw new Error(`${name}: no ready line within 600 s`);
    await sleep(250);
  }
}

/** Mean RSS of each daemon per sixth of the run. */
function trend(all: Sample[], seconds: number): string[] {
  const parts: Sample[][] = Array.from({ length: 6 }, () => []);
  for (const s of all) parts[Math.min(5, Math.floor((s.at / seconds) * 6))]!.push(s);
  return parts.filter((p) => p.length > 0).map((p) => [0, 1].map((i) => (p.reduce((n, s) => n + s.rssMiB[i]!, 0) / p.length).toFixed(0)).join(' / '));
}

async function main(): Promise<void> {
  const g = loadGuest();
  const root = mkdtempSync(path.join(os.tmpdir(), 'pv-stability-'));
  const dirs = [path.join(root, 'a'), path.join(root, 'b')];
  const sides: Side[] = [];
  const end = Date.now() + MINUTES * 60_000;
  const rounds = new Array<number>(VMS).fill(0);
  const errors: string[] = [];
  let first: Sample | undefined;
  let last: Sample | undefined;
  const peak = { rssMiB: [0, 0], fds: [0, 0], qemus: 0, diskMiB: 0 };
  const all: Sample[] = [];
  const loadBefore = loadNow();
  try {
    for (const [dir, listen] of [[dirs[0]!, '127.0.0.1:0'], [dirs[1]!, '127.0.0.2:0']] as const) sides.push(await side(dir, listen));
    const t0 = Date.now();
    const record = (): Sample => {
      const s = sample(sides, dirs, t0);
      s.rssMiB.forEach((v, i) => (peak.rssMiB[i] = Math.max(peak.rssMiB[i]!, v)));
      s.fds.forEach((v, i) => (peak.fds[i] = Math.max(peak.fds[i]!, v)));
      peak.qemus = Math.max(peak.qemus, s.qemus);
      peak.diskMiB = Math.max(peak.diskMiB, s.diskMiB);
      all.push(s);
      return s;
    };
    const loop = async (i: number): Promise<void> => {
      const name = `st${i + 1}`;
      let at = i % 2;
      await sides[at]!.vm.createVm({ name, memory: '131012Ki', disks: [{ name: 'data', size: '16Mi' }], boot: { kernel: g.kernel, initrd: g.initrd, cmdline: `${g.cmdline} pv.name=${name} pv.memtest=32` } });
      while (Date.now() < end) {
        const s = sides[at]!;
        const other = sides[1 - at]!;
        const ep = { socketPath: s.d.socket };
        await s.vm.action(name, 'start');
        await waitReady(s, name, g.readyLine);
        const snaps = new SnapshotClient({ endpoint: ep });
        for (const old of (await snaps.list(name)).snapshots ?? []) await snaps.remove(name, old.name);
        await snaps.create(name, { name: `r${rounds[i]}` });
        const backups = new BackupClient({ endpoint: ep });
        await backups.create(name);
        await backups.prune(name, { keepLast: 2 });
        await s.mig.migrate(name, { target: { url: other.url, token: other.token } });
        at = 1 - at;
        const log4 = await other.vm.serialLog(name, 4 * 1024 * 1024);
        if (/MEMTEST BAD|bad=[1-9]/.test(log4)) throw new Error(`${name}: the guest's memtest reported bad memory after round ${rounds[i]}`);
        await other.vm.action(name, 'stop');
        rounds[i]!++;
        if (i === 0) {
          last = record();
          if (!first) first = last;
          log(`round ${rounds[0]}: rss ${last.rssMiB.map((x) => x.toFixed(0)).join('/')} MiB, fds ${last.fds.join('/')}, qemus ${last.qemus}, disk ${last.diskMiB.toFixed(0)} MiB`);
        }
      }
    };
    const results = await Promise.allSettled(Array.from({ length: VMS }, (_, i) => loop(i)));
    for (const r of results) if (r.status === 'rejected') errors.push((r.reason as Error).message.replace(/\s+/g, ' ').slice(0, 300));
    await sleep(2_000);
    last = record();
    const f = first ?? last;
    const row = (what: string, a: string, b: string, p: string): string[] => [what, a, b, p];
    const per = (xs: number[], d = 0): string => xs.map((x) => x.toFixed(d)).join(' / ');
    const m = await describeMachine('qemu-system-x86_64');
    const body = [
      '## Stability run',
      '',
      `${m.date}; ${m.nproc} cores (${m.cpu}), ${m.memoryGiB} GiB, ${m.qemu}, Node ${m.node}; load before ${loadBefore}, at the end ${loadNow()}.`,
      `${VMS} VMs (test guest, 128 MiB, 16 MiB data disk) each cycled start → snapshot → backup (pruned to 2) → live move to the other daemon → stop, the loops at once, for ${MINUTES} min. Rounds per VM: ${rounds.join(', ')} (${rounds.reduce((a, b) => a + b, 0)} in all). Errors: ${errors.length ? errors.join('; ') : 'none'}.`,
      '',
      table(['figure (daemon a / b)', 'after round 1', `end (${Math.round(last.at / 60)} min)`, 'peak'], [
        row('daemon RSS, MiB', per(f.rssMiB), per(last.rssMiB), per(peak.rssMiB)),
        row('daemon open fds', per(f.fds), per(last.fds), per(peak.fds)),
        row('QEMU processes (all stopped at the end: 0)', String(f.qemus), String(last.qemus), String(peak.qemus)),
        row('state directories on disk, MiB', f.diskMiB.toFixed(1), last.diskMiB.toFixed(1), peak.diskMiB.toFixed(1)),
      ]),
      '',
      `Trend (mean daemon RSS a / b, MiB, per sixth of the run; a slow rise would show here before the end value): ${trend(all, MINUTES * 60).join(' → ')}.`,
    ].join('\n');
    console.log(body);
    writeSection(path.join(import.meta.dirname, '..', 'docs', 'benchmarks.md'), 'stability', body);
  } finally {
    for (const s of sides) await stopDaemon(s.d).catch(() => undefined);
    for (const d of dirs) for (const pid of qemusMentioning(d)) await stopPid(pid);
    rmSync(root, { recursive: true, force: true });
  }
  if (errors.length) process.exitCode = 1;
}

await main();
