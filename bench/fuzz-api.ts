/**
 * Hostile-input fuzzing at full size (issue 23): BENCH_FUZZ_PER_ROUTE (default
 * 10,000) seeded requests to every route of the full stub stack through
 * fastify's inject, with the same generator and checks as
 * src/api/fuzz-routes.test.ts (which sends 100 per route in the unit suite).
 * Prints the counts per status, the 5xx count, the problems, and the rate
 * beside a peer measured in the same run: inject of GET /v1/health, the
 * cheapest route (what the app's hooks alone cost). Run by hand:
 * `npx tsx bench/fuzz-api.ts` (no root or libvirt needed) or `bash bench/run.sh fuzz-api`.
 *
 * Env: BENCH_FUZZ_PER_ROUTE (10000), BENCH_FUZZ_QUERY_ONLY (routes whose only
 * input is the query string, e.g. the doctor, which runs real checks: 1000),
 * BENCH_FUZZ_SEED (random), BENCH_FUZZ_FULL_READ_EACH=1 (the full state read after every request instead of the change counter, to compare), BENCH_FUZZ_SHARD=i/n (every n-th route from the i-th; run n at once), BENCH_FUZZ_WRITE=1 writes the "fuzz-api" section of docs/benchmarks.md.
 */
import os from 'node:os';
import path from 'node:path';
import { catalogue } from '../src/shared/index.js';
import { fuzzRoutes, routesOf, type OpenApiDoc } from '../test/helpers/api-fuzz.js';
import { memoryTmp, openFullStubStack, stateReader } from '../test/helpers/full-stub-stack.js';
import { writeSection } from './lib/report.js';

const PER_ROUTE = Number(process.env['BENCH_FUZZ_PER_ROUTE'] ?? 10_000);
const QUERY_ONLY = Number(process.env['BENCH_FUZZ_QUERY_ONLY'] ?? 1_000);
const SEED = Number(process.env['BENCH_FUZZ_SEED'] ?? Date.now() % 2 ** 31);

const stack = await openFullStubStack('bench-fuzz', 'unix', memoryTmp());
try {
  const app = stack.api.app;
  await app.ready();
  const doc = JSON.parse((await app.inject({ method: 'GET', url: '/v1/openapi.json' })).body) as OpenApiDoc;
  const all = routesOf(doc);
  // BENCH_FUZZ_SHARD=i/n: this process takes every n-th route from the i-th (run n processes to use n cores).
  const [shard, shards] = (process.env['BENCH_FUZZ_SHARD'] ?? '0/1').split('/').map(Number) as [number, number];
  const routeIndex = all.map((_, k) => k).filter((k) => k % shards === shard);
  const routes = routeIndex.map((k) => all[k]!);
  const peerN = 5_000;
  const t0 = performance.now();
  for (let i = 0; i < peerN; i++) await app.inject({ method: 'GET', url: '/v1/health' });
  const peerRate = peerN / ((performance.now() - t0) / 1000);
  const reader = stateReader(stack); // every stored field of VMs and tokens, and the secrets (src/api/fuzz-state.test.ts)
  const snapshot = () => reader.read();
  const quick = process.env['BENCH_FUZZ_FULL_READ_EACH'] === '1' ? undefined : () => reader.quick();
  const cpu0 = process.cpuUsage();
  const res = await fuzzRoutes({ app, doc, routes, routeIndex, perRoute: PER_ROUTE, queryOnlyPerRoute: QUERY_ONLY, seed: SEED, snapshot, ...(quick ? { quick } : {}), codes: new Set(Object.keys(catalogue)), maxProblems: 1_000 });
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  reader.close();
  const rate = res.requests / (res.ms / 1000);
  const fivexx = Object.entries(res.byStatus).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0);
  const lines = [
    `seed ${SEED}: ${routes.length} routes${shards > 1 ? ` (shard ${shard}/${shards} of ${all.length})` : ''}, ${PER_ROUTE} requests per route (${QUERY_ONLY} for query-only routes): ${res.requests} requests in ${(res.ms / 1000).toFixed(0)} s`,
    `statuses: ${JSON.stringify(res.byStatus)}; 5xx: ${fivexx}; problems: ${res.problems.length}`,
    `rate: ${rate.toFixed(0)} requests/s; peer (inject GET /v1/health, same run): ${peerRate.toFixed(0)}/s; ratio ${(rate / peerRate).toFixed(2)}x`,
    `state check: ${quick ? `a change counter after every request, the full read ${res.fullReads} times` : 'the full read after every request'}`,
    `CPU (user + system of this process, load-independent): ${cpuS.toFixed(1)} s for the fuzzing, ${(cpuS * 1000 / Math.max(res.requests, 1)).toFixed(3)} ms per request`,
  ];
  for (const l of lines) console.log(l);
  for (const p of res.problems.slice(0, 50)) console.log(`problem: ${p}`);
  if (process.env['BENCH_FUZZ_WRITE'] === '1') {
    writeSection(path.join(import.meta.dirname, '..', 'docs', 'benchmarks.md'), 'fuzz-api', `## Fuzzing every route (bench/fuzz-api.ts)\n\n${os.cpus().length} cores, Node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)} at the end\n\n${lines.map((l) => `- ${l}`).join('\n')}\n`);
  }
  process.exitCode = fivexx > 0 || res.problems.length > 0 ? 1 : 0;
} finally {
  await stack.close();
}
