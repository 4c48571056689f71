/**
 * Issue 23, hostile input: every route of the full stub stack (taken from the
 * served OpenAPI document, so a new route is fuzzed without editing this
 * file) gets POLYVISOR_FUZZ_PER_ROUTE seeded bodies (default 100 here, 20 for a
 * route whose only input is its query string: POLYVISOR_FUZZ_QUERY_ONLY; the
 * suite's `fuzz` project runs 4,000 per route in shards, src/api/fuzz-shard-*.fuzz.test.ts, and
 * the full 10,000 per route is bench/fuzz-api.ts) as the admin, through fastify's
 * inject: schema-shaped bodies mutated into wrong types, huge strings, deep
 * nesting, unicode, prototype-pollution keys, numbers past their limits,
 * broken JSON and wrong content types. No answer is a 5xx, every 4xx has the
 * catalogue's shape, and a refused request changes nothing. The seed is
 * printed on a failure; POLYVISOR_FUZZ_SEED replays it.
 */
import { describe, expect, it } from 'vitest';
import { fuzzRoutes, routesOf } from '../../test/helpers/api-fuzz.js';
import { fuzzTarget } from '../../test/helpers/fuzz-shard.js';
import { catalogue } from '../shared/index.js';

const PER_ROUTE = Number(process.env['POLYVISOR_FUZZ_PER_ROUTE'] ?? 100);
const QUERY_ONLY = Number(process.env['POLYVISOR_FUZZ_QUERY_ONLY'] ?? 20);
const SEED = Number(process.env['POLYVISOR_FUZZ_SEED'] ?? Date.now() % 2 ** 31);

const t = fuzzTarget('fuzz-routes');

/** What a refused request must leave alone: every stored field of the VMs and tokens, the secrets (stateReader: its change counter after every request, the full read per run; src/api/fuzz-state.test.ts shows both strict). */
const snapshot = (): Promise<string> => t.reader.read();

describe('fuzzing every route from the OpenAPI document', () => {
  it(`${PER_ROUTE} hostile requests per route: no 5xx, catalogue-shaped 4xx, no state change on a refusal`, async () => {
    const routes = routesOf(t.doc);
    expect(routes.length).toBeGreaterThan(90);
    const res = await fuzzRoutes({ app: t.stack.api.app, doc: t.doc, routes, perRoute: PER_ROUTE, seed: SEED, snapshot, quick: () => t.reader.quick(), codes: new Set(Object.keys(catalogue)), queryOnlyPerRoute: QUERY_ONLY, maxProblems: 200 });
    console.log(`fuzz: seed ${SEED}, ${routes.length} routes x ${PER_ROUTE} (query-only ${QUERY_ONLY}) = ${res.requests} requests in ${(res.ms / 1000).toFixed(1)} s (${Math.round(res.requests / (res.ms / 1000))}/s); statuses ${JSON.stringify(res.byStatus)}`);
    console.log(`slowest: ${Object.entries(res.msByRoute).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, ms]) => `${k} ${Math.round(ms)} ms`).join(', ')}`);
    expect(res.problems, `seed ${SEED} (replay with POLYVISOR_FUZZ_SEED=${SEED})`).toEqual([]);
    expect(res.requests).toBe(res.expected);
    expect(res.requests).toBeGreaterThan(routes.length * Math.min(PER_ROUTE, QUERY_ONLY));
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  }, 600_000);

  it('every route with a body: Object.prototype names as fields (toString, constructor…) are refused, never a 500', async () => {
    const routes = routesOf(t.doc).filter((r) => r.method !== 'GET' && r.method !== 'DELETE');
    const before = await snapshot();
    for (const r of routes) {
      for (const k of ['toString', 'constructor', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf']) {
        const url = r.url.replace(/:([A-Za-z0-9_]+)/g, 'nope');
        const res = await t.stack.api.app.inject({ method: r.method as 'POST', url, payload: { [k]: false } });
        expect(res.statusCode, `${r.method} ${url} {"${k}": false} -> ${res.body}`).toBeLessThan(500);
      }
    }
    expect(await snapshot()).toBe(before);
  }, 120_000);
});
