/**
 * The fuzz harness's checks can fail (issue 23): test/helpers/api-fuzz.ts
 * against a tiny fastify app whose routes break one rule each. A refusal that
 * changed the state (a planted row change in a VM, token or secret list), a
 * 5xx, a 4xx without the catalogue's shape and an unanswered request are each
 * reported naming the route; a well-behaved route gives no problem. The state
 * check is the one the fuzz files use: every field of every row of the three
 * lists, compared after each request; with a quick read (a change counter),
 * the counter after each request and the full read once per run, and a
 * single planted change by one refused request among hundreds is caught and
 * named either way, also when the quick read misses it (the run's full read
 * sees it and a replay names the request).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzRoutes, requestAt, type OpenApiDoc } from '../../test/helpers/api-fuzz.js';

let app: FastifyInstance;
/** The "state": three lists of rows, as the fuzz files' snapshot reads them. */
const state = { vms: [{ name: 'a', spec: { cpus: 1 }, generation: 1 }], tokens: [{ name: 't', role: 'admin', expiresAt: null as string | null }], secrets: [{ name: 's', updatedAt: '1' }] };
const snapshot = async (): Promise<string> => JSON.stringify([state.vms, state.tokens, state.secrets]);
const refuse = { code: 'INVALID_ARGUMENT', message: 'bad', hint: 'fix it' };

beforeAll(async () => {
  app = Fastify();
  // the daemon's own parsing answers are catalogue-shaped; here any body is taken and a parse error is a plain refusal
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((_err, _req, reply) => reply.code(400).send(refuse));
  app.post('/good', async (_req, reply) => reply.code(400).send(refuse));
  // each refuses with a catalogue-shaped 400 after changing one field of one row
  app.post('/vm-field', async (_req, reply) => { state.vms[0]!.spec.cpus++; return reply.code(400).send(refuse); });
  app.post('/token-role', async (_req, reply) => { state.tokens[0]!.role = state.tokens[0]!.role === 'admin' ? 'viewer' : 'admin'; return reply.code(409).send(refuse); });
  app.post('/secret-time', async (_req, reply) => { state.secrets[0]!.updatedAt += '1'; return reply.code(404).send(refuse); });
  app.post('/five', async (_req, reply) => reply.code(500).send(refuse));
  app.post('/shapeless', async (_req, reply) => reply.code(400).send({ error: 'no code' }));
  app.post('/unknown-code', async (_req, reply) => reply.code(400).send({ ...refuse, code: 'NOT_IN_CATALOGUE' }));
  app.post('/hangs', () => new Promise(() => undefined));
  // a success may change the state: the next refusal compares with the state after it
  app.post('/ok-changes', async () => { state.vms.push({ name: `v${state.vms.length}`, spec: { cpus: 1 }, generation: 1 }); return { ok: true }; });
  await app.ready();
});
afterAll(() => app?.close());

const doc: OpenApiDoc = { paths: {} };
const run = (url: string, perRoute = 3, timeoutMs?: number) => fuzzRoutes({
  app, doc, routes: [{ method: 'POST', url }], perRoute, seed: 7, snapshot, codes: new Set(['INVALID_ARGUMENT']), ...(timeoutMs ? { timeoutMs } : {}),
});

describe('the fuzz checks report each broken rule', () => {
  it('a well-behaved refusal, and successes that change the state, give no problem', async () => {
    expect((await run('/good')).problems).toEqual([]);
    const res = await run('/ok-changes');
    expect(res.problems).toEqual([]);
    expect(res.byStatus[200]).toBe(3);
  });

  it.each(['/vm-field', '/token-role', '/secret-time'])('a refusal that changed a row is caught: %s', async (url) => {
    const res = await run(url);
    expect(res.problems).toHaveLength(3);
    for (const p of res.problems) expect(p).toMatch(new RegExp(`seed 7 route 0 \\(POST ${url}\\) request \\d: refused \\(4\\d\\d\\) but changed the state`));
  });

  it('a 5xx, a shapeless 4xx, a code not in the catalogue and no answer are problems', async () => {
    expect((await run('/five', 2)).problems.join('\n')).toMatch(/request 0: POST \/five .* -> 500/);
    expect((await run('/shapeless', 2)).problems.join('\n')).toMatch(/a 400 without the catalogue's shape/);
    expect((await run('/unknown-code', 2)).problems.join('\n')).toMatch(/a 400 without the catalogue's shape/);
    const hung = await run('/hangs', 1, 200);
    expect(hung.problems).toEqual([expect.stringMatching(/no answer within 200 ms/)]);
  });
});

describe('the state check over runs (a quick read after each request, the full read per run)', () => {
  // A second app that takes every body as text, so one route can change the state on exactly one fuzzed request.
  let planted: FastifyInstance;
  let changes = 0;
  const route = { method: 'POST', url: '/planted' };
  const N = 300;
  const seed = 11;
  /** The first request from index 100 whose text is unique among the N and sent as JSON: the one that will change a row. */
  let target = -1;
  let targetBody = '';
  beforeAll(async () => {
    const reqs = Array.from({ length: N }, (_, i) => requestAt(seed, 0, i, route, doc));
    target = reqs.findIndex((r, i) => i >= 100 && r.headers['content-type'] === 'application/json' && reqs.filter((x) => x.payload === r.payload).length === 1);
    targetBody = reqs[target]!.payload!;
    planted = Fastify();
    planted.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    planted.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    planted.setErrorHandler((_err, _req, reply) => reply.code(400).send(refuse));
    planted.post('/planted', async (req, reply) => {
      if (req.body === targetBody) { state.vms[0]!.spec.cpus++; changes++; }
      return reply.code(400).send(refuse);
    });
    planted.post('/ok-changes', async () => { state.vms.push({ name: `w${state.vms.length}`, spec: { cpus: 1 }, generation: 1 }); changes++; return { ok: true }; });
    await planted.ready();
  });
  afterAll(() => planted?.close());

  const check = (routes: Array<{ method: string; url: string }>, quick: () => Promise<string>, routeIndex?: number[]) => fuzzRoutes({
    app: planted, doc, routes, ...(routeIndex ? { routeIndex } : {}), perRoute: N, seed, snapshot, quick, fullEvery: 50, codes: new Set(['INVALID_ARGUMENT']),
  });

  it(`one refused request among ${N} that changes a row is caught and named by the quick read`, async () => {
    expect(target).toBeGreaterThanOrEqual(100);
    const res = await check([route], async () => String(changes));
    expect(res.requests).toBe(N);
    expect(res.problems).toEqual([expect.stringMatching(new RegExp(`^seed ${seed} route 0 \\(POST /planted\\) request ${target}: refused \\(400\\) but changed the state`))]);
    expect(res.fullReads).toBeLessThanOrEqual(N / 50 + 2); // the full read per run, not per request
  });

  it('a quick read that misses the change: the run\'s full read sees it and the replay names the request', async () => {
    const res = await check([route], async () => 'blind');
    expect(res.problems).toEqual([expect.stringMatching(new RegExp(`request ${target}: refused \\(400\\) but changed the state \\(seen by the full read, not the quick one; replayed\\)`))]);
  });

  it('accepted requests that change the state are no problem, and the refusals after them are still checked', async () => {
    // the planted route keeps index 0 in the run's numbering (as a shard's routes keep theirs), so its requests are the same
    const res = await check([{ method: 'POST', url: '/ok-changes' }, route], async () => String(changes), [1, 0]);
    expect(res.byStatus[200]).toBe(N);
    expect(res.problems).toEqual([expect.stringMatching(new RegExp(`route 0 \\(POST /planted\\) request ${target}: refused \\(400\\) but changed the state: `))]);
  });
});
