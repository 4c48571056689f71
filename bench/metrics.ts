/**
 * Scrape time and response size of /metrics with 1, 100 and 1,000 VMs in the
 * store (created, no QEMU), and with one running guest on top (its monitor is
 * queried on every scrape). Writes the `metrics` section of docs/benchmarks.md.
 * Usage: npx tsx bench/metrics.ts   (after npm run build and guest/build.sh)
 * With BENCH_BEFORE_DAEMON=/path/to/old/bin/polyvisord.js (a build of an
 * earlier commit) the same rows are measured on that daemon too, in the same
 * run, and printed side by side ("before" / "after").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PolyvisorClient, request } from '../src/client/index.js';
import { loadGuest } from './lib/guest.js';
import { startDaemon, stopDaemon, ROOT, type Daemon } from './lib/polyvisor.js';
import { qemusMentioning, stopPid } from './lib/proc.js';
import { writeSection, table } from './lib/report.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 30);
const BEFORE = process.env['BENCH_BEFORE_DAEMON'];
const guest = loadGuest();
const spec = (name: string) => ({ name, memory: '128Mi', labels: { bench: 'metrics' }, boot: { kernel: guest.kernel, initrd: guest.initrd, cmdline: guest.cmdline } });

interface Row { label: string; vms: number; running: number; median: number; p95: number; bytes: number; series: number }

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

async function measure(d: Daemon, label: string, vms: number, running: number): Promise<Row> {
  const times: number[] = [];
  let body = '';
  for (let i = 0; i < ROUNDS + 3; i++) {
    const t0 = performance.now();
    const r = await request({ socketPath: d.socket }, 'GET', '/metrics', undefined, { timeoutMs: 60_000 });
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
    body = r.body;
    if (i >= 3) times.push(ms); // three warm-up scrapes
  }
  times.sort((a, b) => a - b);
  const series = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
  const row = { label, vms, running, median: pct(times, 0.5), p95: pct(times, 0.95), bytes: Buffer.byteLength(body), series };
  console.error(`[metrics] ${label}: median ${row.median.toFixed(1)} ms, p95 ${row.p95.toFixed(1)} ms, ${row.bytes} bytes, ${series} series`);
  return row;
}

/** Every row on one daemon (a fresh state directory). */
async function rowsOf(daemonJs: string | undefined): Promise<Row[]> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'pv-bench-metrics-'));
  const d = await startDaemon(stateDir, daemonJs ? { daemonJs } : {});
  const client = new PolyvisorClient({ endpoint: { socketPath: d.socket } });
  const measure1 = (label: string, vms: number, running: number) => measure(d, label, vms, running);
  const rows: Row[] = [];
  try {
  let created = 0;
  const grow = async (n: number) => {
    for (; created < n; created++) await client.createVm(spec(`vm-${String(created).padStart(4, '0')}`));
  };
  await grow(1);
  rows.push(await measure1('1 VM (created)', 1, 0));
  await client.action('vm-0000', 'start');
  rows.push(await measure1('1 VM (running)', 1, 1));
  await client.action('vm-0000', 'kill');
  await grow(100);
  rows.push(await measure1('100 VMs (created)', 100, 0));
  await grow(1000);
  rows.push(await measure1('1,000 VMs (created)', 1000, 0));
  await client.action('vm-0000', 'start');
  rows.push(await measure1('1,000 VMs, 1 running', 1000, 1));
  await client.action('vm-0000', 'kill');
  } finally {
    await stopDaemon(d);
    for (const pid of qemusMentioning(stateDir)) await stopPid(pid);
    rmSync(stateDir, { recursive: true, force: true });
  }
  return rows;
}

const before = BEFORE ? await rowsOf(BEFORE) : undefined;
const rows = await rowsOf(undefined);
const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');

const body = `## /metrics scrape (\`bench/metrics.ts\`)

Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}:
a real polyvisord (\`--accel tcg\`), \`GET /metrics\` over its unix socket, ${ROUNDS} scrapes after 3 warm-up ones
per row, one at a time. VMs "created" are in the store with no QEMU (state gauge, vCPUs, memory only); a
running VM adds its monitor round trips (\`query-cpus-fast\`, \`query-blockstats\`, \`query-balloon\`) and
/proc reads. The body includes host and daemon (Node process) series.

${before
    ? table(['store', 'running', 'before: median ms', 'after: median ms', 'after / before', 'before: p95 ms', 'after: p95 ms', 'bytes', 'series'], rows.map((r, i) => [
      r.label, String(r.running), before[i]!.median.toFixed(1), r.median.toFixed(1), (r.median / before[i]!.median).toFixed(2), before[i]!.p95.toFixed(1), r.p95.toFixed(1), r.bytes.toLocaleString('en'), r.series.toLocaleString('en'),
    ]))
    : table(['store', 'running', 'median ms', 'p95 ms', 'bytes', 'series'], rows.map((r) => [r.label, String(r.running), r.median.toFixed(1), r.p95.toFixed(1), r.bytes.toLocaleString('en'), r.series.toLocaleString('en')]))}
${before ? `\n"before" is the daemon of ${process.env['BENCH_BEFORE_LABEL'] ?? 'an earlier commit'} (BENCH_BEFORE_DAEMON), measured first in the same run on a fresh state directory. Load average at the end: ${load}.\n` : ''}
Each created VM costs 11 series (9 state values, vCPUs, memory); a running one
adds CPU, per-vCPU, RSS, monitor status and 7 series per disk.`;
writeSection(path.join(ROOT, 'docs', 'benchmarks.md'), 'metrics', body);
console.error('[metrics] wrote docs/benchmarks.md');
