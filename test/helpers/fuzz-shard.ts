/**
 * One shard of the suite's API fuzz (issue 23; the `fuzz` vitest project,
 * src/api/fuzz-shard-*.fuzz.test.ts): every `shards`-th route of the OpenAPI
 * document from the `shard`-th, POLYVISOR_FUZZ_PER_ROUTE seeded hostile
 * requests each (POLYVISOR_FUZZ_QUERY_ONLY for a route whose only input is its
 * query string), through fastify's inject on the full stub stack, with the
 * checks of test/helpers/api-fuzz.ts: no 5xx, every 4xx in the catalogue's
 * shape, no state change on a refusal (a change counter after every request,
 * the full row read per run: stateReader). Routes keep their index in the
 * whole list, so POLYVISOR_FUZZ_SEED replays a failure in any shard.
 * scripts/test.sh runs the shards two at a time, one per core.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../src/shared/index.js';
import { fuzzRoutes, routesOf, type OpenApiDoc } from './api-fuzz.js';
import { memoryTmp, openFullStubStack, stateReader, type FullStubStack } from './full-stub-stack.js';

/** The suite's count per route (docs/benchmarks.md, "fuzz-api-cost", says why this number). */
export const SUITE_PER_ROUTE = 10_000;
/** Query-only routes (the doctor runs real checks and child processes): as in bench/fuzz-api.ts. */
export const SUITE_QUERY_ONLY = 1_000;

export function fuzzShard(shard: number, shards: number): void {
  const perRoute = Number(process.env['POLYVISOR_FUZZ_PER_ROUTE'] ?? SUITE_PER_ROUTE);
  const queryOnly = Number(process.env['POLYVISOR_FUZZ_QUERY_ONLY'] ?? SUITE_QUERY_ONLY);
  const seed = Number(process.env['POLYVISOR_FUZZ_SEED'] ?? Date.now() % 2 ** 31);
  const t = fuzzTarget(`fuzz-shard${shard}`);

  describe(`API fuzz, shard ${shard} of ${shards}`, () => {
    it(`${perRoute} hostile requests per route (${queryOnly} query-only): no 5xx, catalogue-shaped 4xx, no state change on a refusal`, async () => {
      const all = routesOf(t.doc);
      expect(all.length).toBeGreaterThan(90);
      const routeIndex = all.map((_, k) => k).filter((k) => k % shards === shard);
      const routes = routeIndex.map((k) => all[k]!);
      const cpu0 = process.cpuUsage();
      const res = await fuzzRoutes({
        app: t.stack.api.app, doc: t.doc, routes, routeIndex, perRoute, queryOnlyPerRoute: queryOnly, seed,
        snapshot: () => t.reader.read(), quick: () => t.reader.quick(), codes: new Set(Object.keys(catalogue)), maxProblems: 200,
        // scripts/test.sh runs the shards at nice 19 beside the QEMU tests: a request may wait for a core far longer than alone.
        ...(process.env['POLYVISOR_FUZZ_TIMEOUT_MS'] ? { timeoutMs: Number(process.env['POLYVISOR_FUZZ_TIMEOUT_MS']) } : {}),
      });
      const cpu = process.cpuUsage(cpu0);
      const cpuS = (cpu.user + cpu.system) / 1e6;
      console.log(`fuzz shard ${shard}/${shards}: seed ${seed}, ${routes.length} of ${all.length} routes, ${res.requests} requests in ${(res.ms / 1000).toFixed(1)} s, ${cpuS.toFixed(1)} CPU-s (${((cpuS * 1000) / Math.max(res.requests, 1)).toFixed(3)} ms each); full state reads ${res.fullReads}; statuses ${JSON.stringify(res.byStatus)}`);
      expect(res.problems, `seed ${seed} (replay with POLYVISOR_FUZZ_SEED=${seed})`).toEqual([]);
      expect(res.requests).toBe(res.expected);
      expect(res.requests).toBeGreaterThanOrEqual(routes.length * Math.min(perRoute, queryOnly));
      expect(Object.keys(res.byStatus).filter((s) => Number(s) >= 500)).toEqual([]);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(Object.keys(Object.prototype)).toEqual([]);
    }, 7_200_000);
  });
}

/**
 * What a fuzz file runs against, opened before its tests and closed after them
 * (vitest hooks): the full stub stack with its state in memory, the OpenAPI
 * document it serves (the routes to fuzz) and its state reader (the checks of a
 * refusal). Read the fields inside tests, once the hooks have run.
 */
export function fuzzTarget(tag: string): { readonly stack: FullStubStack; readonly doc: OpenApiDoc; readonly reader: StateReader } {
  let stack: FullStubStack | undefined;
  let doc: OpenApiDoc | undefined;
  let reader: StateReader | undefined;
  beforeAll(async () => {
    stack = await openFullStubStack(tag, 'unix', memoryTmp());
    await stack.api.app.ready();
    doc = JSON.parse((await stack.api.app.inject({ method: 'GET', url: '/v1/openapi.json' })).body) as OpenApiDoc;
    reader = stateReader(stack);
  }, 60_000);
  afterAll(async () => {
    reader?.close();
    await stack?.close();
  });
  const opened = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error(`fuzz target ${tag}: read before its beforeAll ran`);
    return v;
  };
  return {
    get stack() { return opened(stack); },
    get doc() { return opened(doc); },
    get reader() { return opened(reader); },
  };
}

type StateReader = ReturnType<typeof stateReader>;
