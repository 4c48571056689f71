/**
 * History query time (`bash bench/run.sh history`): the median of 50 calls of
 * `GET /v1/vms/NAME/history?range=1d` (1,440 points) beside 50 plain
 * `GET /v1/vms/NAME` in the same run, calls interleaved, over the daemon's
 * unix socket; the history file holds a full day and hour for 200 VMs (what
 * a busy host keeps). Also the cost of writing one sampling round for 200
 * VMs into the history file (WAL, synchronous=NORMAL, as the daemon does)
 * beside the same round with synchronous=FULL (the state database's
 * setting). Writes the `history` section of docs/benchmarks.md.
 *
 * Env: BENCH_ROUNDS (default 3), BENCH_CALLS (default 50), BENCH_VMS (default 200).
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PolyvisorClient, request } from '../src/client/index.js';
import { COARSE, FINE, HistoryDb, VM_COLUMNS, type StoredPoint } from '../src/history/index.js';
import { httpGetter, latencies, percentile } from './lib/api-load.js';
import { loadNow } from './lib/machine.js';
import { ROOT, startDaemon, stopDaemon } from './lib/polyvisor.js';
import { runOk } from './lib/proc.js';
import { table, writeSection } from './lib/report.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CALLS = Number(process.env['BENCH_CALLS'] ?? 50);
const VMS = Number(process.env['BENCH_VMS'] ?? 200);
const log = (s: string): void => void process.stderr.write(`[history] ${s}\n`);
const median = (xs: number[]): number => percentile(xs, 50);

/** A private copy of bin/ and dist/, so a teammate's build during the run cannot swap modules under the daemon. */
function snapshotApp(root: string): string {
  const app = path.join(root, 'app');
  mkdirSync(app);
  for (const d of ['bin', 'dist']) cpSync(path.join(ROOT, d), path.join(app, d), { recursive: true });
  cpSync(path.join(ROOT, 'package.json'), path.join(app, 'package.json'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'));
  return path.join(app, 'bin', 'polyvisord.js');
}

/** A day of 1 min points and an hour of 10 s points for `series`, ending now. */
function dayOf(series: string, now: number): StoredPoint[] {
  const out: StoredPoint[] = [];
  const values = (i: number) => VM_COLUMNS.map((_c, k) => (k === 2 ? null : (i * 7 + k * 13) % 100 * 1e6));
  for (let i = 0; i < COARSE.slots; i++) out.push({ series, tier: COARSE, t: Math.floor(now / 60_000) * 60_000 - i * 60_000, values: values(i) });
  for (let i = 0; i < FINE.slots; i++) out.push({ series, tier: FINE, t: Math.floor(now / 10_000) * 10_000 - i * 10_000, values: values(i) });
  return out;
}

/** Median ms of writing one sampling round (one 10 s point per VM) with the given synchronous setting. */
function roundWrite(dir: string, sync: 'NORMAL' | 'FULL', rounds: number): number {
  const file = path.join(dir, `w-${sync}.db`);
  const db = new HistoryDb(file, { synchronous: sync });
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = Date.now() + r * 10_000;
    const points = Array.from({ length: VMS }, (_, i) => ({ series: `vm:${i}`, tier: FINE, t, values: VM_COLUMNS.map(() => r) }));
    const t0 = performance.now();
    db.write(points);
    times.push(performance.now() - t0);
  }
  db.close();
  return median(times);
}

const commit = (await runOk('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], 10_000)).trim();
const root = mkdtempSync(path.join(os.tmpdir(), 'pv-bench-history-'));
const stateDir = path.join(root, 's');
mkdirSync(stateDir);
const daemonJs = snapshotApp(root);
const d = await startDaemon(stateDir, { env: { POLYVISOR_API_RATE_LIMIT: '0' }, daemonJs });
try {
  const client = new PolyvisorClient({ endpoint: { socketPath: d.socket } });
  const vm = await client.createVm({ name: 'hist-bench', memory: '128Mi', disks: [{ name: 'root', size: '16Mi' }] });
  const now = Date.now();
  const db = new HistoryDb(path.join(stateDir, 'history.db')); // a second connection to the daemon's file (WAL)
  db.write(dayOf(`vm:${vm.id}`, now));
  for (let i = 1; i < VMS; i++) db.write(dayOf(`vm:other-${i}`, now));
  log(`history.db: ${db.rowCount()} rows`);
  db.close();
  const fileMiB = (['history.db', 'history.db-wal'].map((f) => { try { return statSync(path.join(stateDir, f)).size; } catch { return 0; } }).reduce((a, b) => a + b, 0) / 2 ** 20).toFixed(1);

  const http = httpGetter({ socketPath: d.socket }, 1);
  const hist = http.get('/v1/vms/hist-bench/history?range=1d');
  const plain = http.get('/v1/vms/hist-bench');
  const h = await client.getVm('hist-bench');
  const answer = JSON.parse((await request({ socketPath: d.socket }, 'GET', '/v1/vms/hist-bench/history?range=1d', undefined)).body) as { points: unknown[] };
  if (answer.points.length !== COARSE.slots) throw new Error(`the 1d answer has ${answer.points.length} points, wanted ${COARSE.slots}`);
  log(`VM ${h.name}: 1d history answers ${answer.points.length} points`);
  await latencies(hist, 10);
  await latencies(plain, 10);
  const rows: string[][] = [];
  const hMed: number[] = [];
  const pMed: number[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const hs: number[] = [];
    const ps: number[] = [];
    for (let i = 0; i < CALLS; i++) { // interleaved, so both see the same load
      hs.push(...(await latencies(hist, 1)));
      ps.push(...(await latencies(plain, 1)));
    }
    hMed.push(median(hs));
    pMed.push(median(ps));
    rows.push([String(r), median(hs).toFixed(2), percentile(hs, 95).toFixed(2), median(ps).toFixed(2), (median(hs) / median(ps)).toFixed(2), loadNow()]);
    log(`round ${r}: history ${median(hs).toFixed(2)} ms, plain ${median(ps).toFixed(2)} ms`);
  }
  http.close();
  const wNormal = roundWrite(root, 'NORMAL', 30);
  const wFull = roundWrite(root, 'FULL', 30);
  const hAll = median(hMed);
  const pAll = median(pMed);
  const body = `## History query (\`bench/history.ts\`)

${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, commit ${commit} (its \`dist/\` plus the day's uncommitted work), ${os.cpus().length} cores, load at start of the report ${loadNow()}.
\`GET /v1/vms/NAME/history?range=1d\` (1,440 points, ${Math.round(JSON.stringify(answer).length / 1024)} KiB of JSON) beside \`GET /v1/vms/NAME\`,
${CALLS} calls each per round, interleaved, one at a time over the unix socket; the history file holds a day and an hour for ${VMS} VMs
(${VMS * (COARSE.slots + FINE.slots)} rows, ${fileMiB} MiB with its WAL). Goal: history under 20 ms.

${table(['round', 'history 1d median ms', 'history p95 ms', 'GET /v1/vms/NAME median ms', 'ratio', 'load'], rows)}

Median of the rounds: history **${hAll.toFixed(2)} ms**, plain VM **${pAll.toFixed(2)} ms**, ratio **${(hAll / pAll).toFixed(2)}**.

Writing one sampling round (${VMS} VMs, one 10 s point each, one transaction), median of 30: **${wNormal.toFixed(2)} ms** with WAL and
synchronous=NORMAL (what the daemon uses: no fsync per round) beside **${wFull.toFixed(2)} ms** with synchronous=FULL (fsync per commit),
ratio ${(wFull / wNormal).toFixed(1)}.`;
  writeSection(path.join(ROOT, 'docs', 'benchmarks.md'), 'history', body);
  process.stdout.write(`${body}\n`);
} finally {
  await stopDaemon(d);
  rmSync(root, { recursive: true, force: true });
}
