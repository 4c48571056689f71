/**
 * Store benchmark (run by hand: `bash bench/run.sh etcd-store`, or
 * `npx tsx bench/etcd-store.ts`): createVm / getVm / updateVm / listVms
 * latency and update throughput on the SQLite store (the single-host
 * default) beside the EtcdStore on a 1-member and a 3-member etcd started by
 * scripts/etcd.sh on this machine, in the same run, as ratios to SQLite.
 * Writes the "etcd-store" section of docs/benchmarks.md.
 *
 * Env: BENCH_VMS (records per backend, default 300), BENCH_SECONDS (throughput
 * window, default 3), BENCH_WRITE=0 prints without writing the doc.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { newUuid } from '../src/shared/index.js';
import { validateSpec } from '../src/spec/index.js';
import type { Store } from '../src/store/index.js';
import { openEtcdStore } from '../src/store/etcd/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { startEtcd, type TestEtcd } from '../test/helpers/etcd.js';
import { loadNow } from './lib/machine.js';
import { table, writeSection } from './lib/report.js';
import { summarize } from './lib/stats.js';

const VMS = Number(process.env['BENCH_VMS'] ?? 300);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const CONCURRENCY = 8;
const log = (s: string): void => void process.stderr.write(`[etcd-store] ${s}\n`);

interface Result { name: string; create: number; get: number; update: number; list: number; updatesPerSec: number }

const rec = (name: string) => ({
  id: newUuid(), name, spec: validateSpec({ name, disks: [{ name: 'root', size: '1Gi' }] }),
  state: 'created' as const, stateReason: '', host: 'bench', runtime: null,
});

async function timeEach(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    ms.push(performance.now() - t);
  }
  return summarize(ms).median;
}

async function measure(name: string, store: Store): Promise<Result> {
  const names = Array.from({ length: VMS }, (_, i) => `b${String(i).padStart(5, '0')}`);
  const create = await timeEach(VMS, (i) => store.createVm(rec(names[i]!)));
  const get = await timeEach(VMS, (i) => store.getVm(names[i]!));
  const update = await timeEach(VMS, (i) => store.updateVm(names[i]!, { stateReason: `u${i}` }));
  const list = await timeEach(20, () => store.listVms());
  let done = 0;
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async (_, w) => {
    for (let i = w; performance.now() < until; i += CONCURRENCY) {
      await store.updateVm(names[i % VMS]!, { stateReason: `t${i}` });
      done++;
    }
  }));
  const r = { name, create, get, update, list, updatesPerSec: done / SECONDS };
  log(`${name}: create ${create.toFixed(2)} ms, get ${get.toFixed(2)} ms, update ${update.toFixed(2)} ms, list(${VMS}) ${list.toFixed(2)} ms, ${r.updatesPerSec.toFixed(0)} updates/s`);
  return r;
}

async function main(): Promise<void> {
  const results: Result[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-bench-store-'));
  const clusters: TestEtcd[] = [];
  try {
    const sqlite = openSqliteStore(path.join(dir, 'state.db'));
    results.push(await measure('SQLite (file, synchronous=FULL)', sqlite));
    await sqlite.close();
    for (const size of [1, 3] as const) {
      const etcd = await startEtcd(size, `bench-etcd${size}`);
      clusters.push(etcd);
      const store = openEtcdStore({ endpoints: etcd.endpoints, prefix: `/bench-${newUuid()}/` });
      results.push(await measure(`etcd, ${size} member${size > 1 ? 's' : ''} on 127.0.0.1`, store));
      await store.close();
    }
  } finally {
    for (const c of clusters) c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const base = results[0]!;
  const x = (v: number, b: number) => `${v.toFixed(2)} (${(v / b).toFixed(1)}x)`;
  const etcdVersion = execFileSync('etcd', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  const body = [
    '## Store: SQLite vs etcd',
    '',
    `${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, ${os.cpus().length} cores, load ${loadNow()}, ${etcdVersion}, Node ${process.version}.`,
    `Median latency in ms of one call (ratio to SQLite) over ${VMS} records, one client, calls one after another;`,
    `updates/s: ${CONCURRENCY} concurrent updaters for ${SECONDS} s. Every write is durable before it returns on both`,
    '(SQLite fsyncs its WAL; etcd fsyncs its WAL and, with 3 members, waits for a majority). bench/etcd-store.ts.',
    '',
    table(
      ['backend', 'createVm', 'getVm', 'updateVm', `listVms (${VMS})`, 'updates/s'],
      results.map((r) => [r.name, x(r.create, base.create), x(r.get, base.get), x(r.update, base.update), x(r.list, base.list), `${r.updatesPerSec.toFixed(0)} (${(r.updatesPerSec / base.updatesPerSec).toFixed(2)}x)`]),
    ),
  ].join('\n');
  console.log(body);
  if (process.env['BENCH_WRITE'] !== '0') writeSection(path.resolve(import.meta.dirname, '..', 'docs', 'benchmarks.md'), 'etcd-store', body);
}

await main();
