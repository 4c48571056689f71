/**
 * Hostile-input fuzzing of every API route (issue 23), shared by the unit
 * test (src/api/fuzz-routes.test.ts) and the full run (bench/fuzz-api.ts).
 * Bodies come from each route's request schema in the served OpenAPI
 * document, then are mutated: wrong types, huge strings, deep nesting,
 * unicode, prototype-pollution keys, numbers past their limits, broken JSON
 * and wrong content types. A seeded generator makes every request
 * reproducible from (seed, route, index); a failure names all three.
 * Requests go through fastify's inject (no sockets).
 */
import type { FastifyInstance } from 'fastify';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = Record<string, unknown>;
interface Operation { parameters?: Array<{ name: string; in: string; schema?: Schema }>; requestBody?: { content: Record<string, { schema: Schema }> }; responses: Record<string, { content?: Record<string, unknown> }> }
export interface OpenApiDoc { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } }

/** mulberry32: small, fast, seeded. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A request's own seed from the run's seed, the route's index and the request's index. */
export const requestSeed = (seed: number, route: number, i: number): number => (Math.imul(seed ^ 0x9e3779b9, 31) + Math.imul(route + 1, 0x85ebca6b) + Math.imul(i + 1, 0xc2b2ae35)) >>> 0;

const HOSTILE_STRINGS = [
  '', ' ', '..', '../../etc/passwd', '/etc/shadow', '%2e%2e%2f', '$(reboot)', '`id`', 'a;rm -rf /', '\u0000', 'a\nb', '-rf', '--help',
  'ünï', '💥', '\u202e', '\ud800', 'Ω≈ç√', '<script>alert(1)</script>', '{"a":1}', 'null', 'true', '1e309', 'NaN', '0x10', '__proto__',
  'constructor', 'prototype', 'exec:/bin/sh', 'file:///etc/passwd', 'http://169.254.169.254/', 'x'.repeat(300),
];
const BIG_NUMBERS = [0, -1, -0, 1.5, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, -1e308, Number.MAX_SAFE_INTEGER, 4 * 1024 ** 4, 1e-300];

export class Gen {
  constructor(readonly r: () => number, private readonly defs: Record<string, Schema>) {}
  int(n: number): number { return Math.floor(this.r() * n); }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]!; }
  chance(p: number): boolean { return this.r() < p; }

  string(max = 12): string {
    if (this.chance(0.3)) return this.pick(HOSTILE_STRINGS);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_./: AZ\u00e9\u4e2d\ud83d\ude00';
    let s = '';
    const n = this.int(max + 1);
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)] ?? 'a';
    return s;
  }

  /** A value of the schema's shape (valid-ish: right types, enums, bounds; patterns ignored). */
  valid(s: Schema | undefined, depth = 0): Json {
    if (!s || depth > 6) return this.anything(1);
    const ref = s['$ref'];
    if (typeof ref === 'string') return this.valid(this.defs[ref.split('/').pop()!], depth + 1);
    if ('const' in s) return s['const'] as Json;
    if (Array.isArray(s['enum'])) return this.pick(s['enum'] as Json[]);
    for (const k of ['anyOf', 'oneOf']) if (Array.isArray(s[k])) return this.valid(this.pick(s[k] as Schema[]), depth + 1);
    if (Array.isArray(s['allOf'])) return Object.assign({}, ...(s['allOf'] as Schema[]).map((x) => this.valid(x, depth + 1))) as Json;
    const type = Array.isArray(s['type']) ? this.pick(s['type'] as string[]) : s['type'];
    switch (type) {
      case 'object': {
        const props = (s['properties'] ?? {}) as Record<string, Schema>;
        const required = new Set((s['required'] ?? []) as string[]);
        const o: Record<string, Json> = {};
        for (const [k, v] of Object.entries(props)) if (required.has(k) || this.chance(0.5)) o[k] = this.valid(v, depth + 1);
        return o;
      }
      case 'array': {
        const n = this.int(Math.min(Number(s['maxItems'] ?? 3), 3) + 1);
        return Array.from({ length: Math.max(n, Number(s['minItems'] ?? 0)) }, () => this.valid(s['items'] as Schema, depth + 1));
      }
      case 'integer': case 'number': {
        const min = typeof s['minimum'] === 'number' ? s['minimum'] : 0;
        const max = typeof s['maximum'] === 'number' ? s['maximum'] : min + 1000;
        const v = min + this.r() * Math.min(max - min, 1e6);
        return type === 'integer' ? Math.floor(v) : v;
      }
      case 'boolean': return this.chance(0.5);
      case 'null': return null;
      case 'string': return this.string(Math.min(Number(s['maxLength'] ?? 16), 16));
      default: return this.anything(2);
    }
  }

  anything(depth: number): Json {
    switch (this.int(depth > 0 ? 7 : 5)) {
      case 0: return null;
      case 1: return this.chance(0.5);
      case 2: return this.pick(BIG_NUMBERS);
      case 3: return this.string();
      case 4: return this.int(100);
      case 5: return Array.from({ length: this.int(3) }, () => this.anything(depth - 1));
      default: return Object.fromEntries(Array.from({ length: this.int(3) }, () => [this.string(6), this.anything(depth - 1)]));
    }
  }

  /** One mutation of `v`, anywhere in it. */
  mutate(v: Json): Json {
    if (v !== null && typeof v === 'object' && this.chance(0.6)) {
      if (Array.isArray(v)) {
        if (v.length === 0 || this.chance(0.2)) return [...v, this.anything(2)];
        const i = this.int(v.length);
        return v.map((x, j) => (j === i ? this.mutate(x) : x));
      }
      const keys = Object.keys(v);
      if (keys.length === 0 || this.chance(0.25)) return { ...v, [this.pick([this.string(8), 'extra', 'constructor', 'prototype', 'toString', 'hasOwnProperty'])]: this.anything(2) };
      const k = this.pick(keys);
      if (this.chance(0.15)) {
        const { [k]: _gone, ...rest } = v;
        return rest;
      }
      return { ...v, [k]: this.mutate(v[k]!) };
    }
    switch (this.int(8)) {
      case 0: return this.anything(2); // another type
      case 1: return 'x'.repeat(1 + this.int(200_000)); // huge string
      case 2: return this.deep(20 + this.int(2000)); // deep nesting
      case 3: return this.pick(BIG_NUMBERS);
      case 4: return this.pick(HOSTILE_STRINGS);
      case 5: return typeof v === 'number' ? -v - 1 : typeof v === 'string' ? `${v}${this.pick(HOSTILE_STRINGS)}` : null;
      case 6: return Array.from({ length: this.int(5000) }, () => 1);
      default: return { nested: v };
    }
  }

  deep(n: number): Json {
    let v: Json = this.string(4);
    for (let i = 0; i < n; i++) v = this.chance(0.5) ? [v] : { a: v };
    return v;
  }
}

export interface FuzzRequest { method: string; url: string; headers: Record<string, string>; payload?: string }

/** Path parameters: a plausible name mostly, sometimes hostile (never empty: that is another route). */
function param(g: Gen): string {
  const v = g.chance(0.5) ? g.pick(['web', 'a', 'nope', 'start', 'stop', 'default', 'root', '00000000-0000-4000-8000-000000000000']) : g.string(20);
  try {
    return encodeURIComponent(v) || 'x';
  } catch {
    return '%ED%A0%80'; // a lone surrogate: invalid UTF-8 once percent-decoded
  }
}

/** The text of a JSON body carrying a prototype-pollution key (JSON.stringify drops or hides __proto__). */
function withProtoKey(g: Gen, v: Json): string {
  const text = JSON.stringify(v);
  const evil = g.pick(['{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}', '{"__proto__":{"role":"admin","isAdmin":true}}']);
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return text === '{}' ? evil : `${evil.slice(0, -1)},${text.slice(1)}`;
  return evil;
}

export function fuzzRequest(g: Gen, method: string, url: string, op: Operation | undefined): FuzzRequest {
  const path = url.replace(/:([A-Za-z0-9_]+)/g, () => param(g));
  const query = (op?.parameters ?? []).filter((p) => p.in === 'query');
  const qs = new URLSearchParams();
  for (const p of query) if (g.chance(0.4)) qs.set(p.name, String(g.chance(0.5) ? g.valid(p.schema) : g.anything(0)));
  if (g.chance(0.1)) qs.set(g.pick(['__proto__', 'constructor[prototype][x]', 'x']), g.string());
  let q = '';
  try {
    q = qs.toString();
  } catch {
    q = 'x=%ED%A0%80';
  }
  const full = q ? `${path}?${q}` : path;
  const headers: Record<string, string> = {};
  if (method === 'GET' || method === 'HEAD') return { method, url: full, headers };
  const schema = op?.requestBody?.content['application/json']?.schema;
  const base = g.valid(schema);
  const body = g.chance(0.15) ? base : g.mutate(g.chance(0.3) ? g.mutate(base) : base);
  const kind = g.int(20);
  if (kind < 13) {
    headers['content-type'] = 'application/json';
    return { method, url: full, headers, payload: JSON.stringify(body) };
  }
  if (kind < 15) {
    headers['content-type'] = 'application/json';
    return { method, url: full, headers, payload: withProtoKey(g, body) };
  }
  if (kind === 15) {
    headers['content-type'] = 'application/json';
    const text = JSON.stringify(body);
    return { method, url: full, headers, payload: text.slice(0, g.int(text.length)) }; // broken JSON
  }
  headers['content-type'] = g.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=utf-16', '']);
  if (headers['content-type'] === '') delete headers['content-type'];
  return { method, url: full, headers, payload: g.chance(0.5) ? JSON.stringify(body) : g.string(100) };
}

export interface RouteRef { method: string; url: string }

/** The routes to fuzz, from the served OpenAPI document; event streams are left out (they never end) and WebSocket-only routes answer a plain GET like any other. */
export function routesOf(d: OpenApiDoc): RouteRef[] {
  return Object.entries(d.paths).flatMap(([p, ops]) => Object.entries(ops)
    .filter(([, op]) => !Object.values(op.responses).some((r) => r.content && Object.keys(r.content).some((c) => c.includes('event-stream'))))
    .map(([m]) => ({ method: m.toUpperCase(), url: p.replace(/\{([^}]+)\}/g, ':$1') })));
}
export interface FuzzResult { requests: number; /** Requests planned (per route, fewer for query-only routes). */ expected: number; byStatus: Record<number, number>; problems: string[]; ms: number; /** Milliseconds spent on each route. */ msByRoute: Record<string, number>; /** Full state reads made (after every request without `quick`; per run with it). */ fullReads: number }

/** The request `i` of route `ri`, rebuilt from the seed (what a failure names, and what a replay re-sends). */
export function requestAt(seed: number, ri: number, i: number, r: RouteRef, doc: OpenApiDoc): FuzzRequest {
  return fuzzRequest(new Gen(rng(requestSeed(seed, ri, i)), doc.components?.schemas ?? {}), r.method, r.url, operationOf(doc, r));
}

const operationOf = (doc: OpenApiDoc, r: RouteRef): Operation | undefined => doc.paths[r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[r.method.toLowerCase()];

/**
 * Sends `perRoute` requests to each route and checks each answer: below 500;
 * a 4xx has the catalogue's shape (code, message, hint) and left the state
 * as it was. Requests still unanswered after `timeoutMs` are problems too.
 *
 * The state check. Without `quick`: `snapshot()` (the full read) after every
 * request, a 4xx whose read differs from the one before it is a problem.
 * With `quick` (a cheap read that changes whenever a full read would, e.g. a
 * change counter kept by triggers: stateReader in full-stub-stack.ts): the
 * quick read after every request names a refused request that changed
 * something, and the full read runs once per run of `fullEvery` requests (and
 * at each route's end) as a cross-check: if the full read changed over a run
 * in which the quick read never moved, the quick read missed a
 * change; the run is then re-sent one request at a time with a full read
 * after each, to name the refused request that changed the state (the run as
 * a whole is reported if the replay does not reproduce it).
 */
export async function fuzzRoutes(o: {
  app: FastifyInstance; doc: OpenApiDoc; routes: readonly RouteRef[]; perRoute: number; seed: number;
  /** Requests for a route whose only input is its query string (no body, no path parameter): the doctor runs real checks. */
  queryOnlyPerRoute?: number;
  headers?: Record<string, string>; snapshot: () => Promise<string>; quick?: () => Promise<string>; fullEvery?: number;
  codes: ReadonlySet<string>; timeoutMs?: number; maxProblems?: number;
  /** Indices of the routes in the run's numbering (a shard's routes keep their index in the whole list, so a seed replays the same requests). */
  routeIndex?: readonly number[];
}): Promise<FuzzResult> {
  const t0 = performance.now();
  const res: FuzzResult = { requests: 0, expected: 0, byStatus: {}, problems: [], ms: 0, msByRoute: {}, fullReads: 0 };
  const timeoutMs = o.timeoutMs ?? 10_000;
  const quick = o.quick ?? o.snapshot;
  const full = async (): Promise<string> => { res.fullReads++; return o.snapshot(); };
  const fullEvery = o.quick ? (o.fullEvery ?? 500) : Infinity;
  const late = lateTimer(timeoutMs);
  const send = async (req: FuzzRequest) => late.race(o.app.inject({ method: req.method as 'GET', url: req.url, headers: { ...o.headers, ...req.headers }, ...(req.payload !== undefined ? { payload: req.payload } : {}) }));
  const show = (req: FuzzRequest, status: number | string, body: string): string => `${req.method} ${req.url.slice(0, 200)} ${req.headers['content-type'] ?? '(no content-type)'} ${String(req.payload ?? '').slice(0, 200)} -> ${status} ${body.slice(0, 300)}`;
  const where = (ri: number, r: RouteRef, i: number): string => `seed ${o.seed} route ${ri} (${r.method} ${r.url}) request ${i}`;

  let quickBefore = await quick();
  let fullBefore = o.quick ? await full() : '';
  /** The run since the last full read: its requests (rebuilt from the seed for a replay) and whether the quick read moved in it (an accepted change, or a refused one already reported). */
  let run: Array<{ ri: number; r: RouteRef; i: number }> = [];
  let quickMoved = false;
  const closeRun = async (): Promise<void> => {
    if (!o.quick || run.length === 0) return;
    const now = await full();
    if (now !== fullBefore && !quickMoved) {
      // The quick read missed a change the full read sees: name the request by re-sending the run one at a time.
      const named: string[] = [];
      let prev = now;
      for (const x of run) {
        const req = requestAt(o.seed, x.ri, x.i, x.r, o.doc);
        const answer = await send(req);
        const after = await full();
        if (answer && answer.statusCode >= 400 && answer.statusCode < 500 && after !== prev) named.push(`${where(x.ri, x.r, x.i)}: refused (${answer.statusCode}) but changed the state (seen by the full read, not the quick one; replayed): ${show(req, answer.statusCode, answer.body)}`);
        prev = after;
      }
      const a = run[0]!;
      const b = run[run.length - 1]!;
      res.problems.push(...(named.length ? named : [`seed ${o.seed}: the state changed during the refused requests from route ${a.ri} request ${a.i} to route ${b.ri} request ${b.i} (seen by the full read, not the quick one; the replay did not name one)`]));
      fullBefore = await full();
      quickBefore = await quick();
    } else {
      fullBefore = now;
    }
    run = [];
    quickMoved = false;
  };

  try {
    for (const [k, r] of o.routes.entries()) {
      const ri = o.routeIndex?.[k] ?? k;
      const op = operationOf(o.doc, r);
      const tr = performance.now();
      const queryOnly = !r.url.includes(':') && !op?.requestBody;
      const n = queryOnly ? Math.min(o.perRoute, o.queryOnlyPerRoute ?? o.perRoute) : o.perRoute;
      res.expected += n;
      for (let i = 0; i < n; i++) {
        if (res.problems.length >= (o.maxProblems ?? 20)) break;
        const req = requestAt(o.seed, ri, i, r, o.doc);
        const answer = await send(req);
        res.requests++;
        if (!answer) {
          res.problems.push(`${where(ri, r, i)}: no answer within ${timeoutMs} ms: ${req.method} ${req.url.slice(0, 200)}`);
          continue;
        }
        const status = answer.statusCode;
        res.byStatus[status] = (res.byStatus[status] ?? 0) + 1;
        if (status >= 500) res.problems.push(`${where(ri, r, i)}: ${show(req, status, answer.body)}`);
        const after = await quick();
        if (status >= 400 && status < 500) {
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(answer.body) as Record<string, unknown>;
          } catch { /* checked below */ }
          if (typeof body['code'] !== 'string' || !o.codes.has(body['code']) || typeof body['message'] !== 'string' || typeof body['hint'] !== 'string') {
            res.problems.push(`${where(ri, r, i)}: a ${status} without the catalogue's shape: ${show(req, status, answer.body)}`);
          }
          if (after !== quickBefore) res.problems.push(`${where(ri, r, i)}: refused (${status}) but changed the state: ${show(req, status, answer.body)}`);
        }
        if (after !== quickBefore) quickMoved = true;
        quickBefore = after;
        run.push({ ri, r, i });
        if (run.length >= fullEvery) await closeRun();
      }
      await closeRun();
      res.msByRoute[`${r.method} ${r.url}`] = performance.now() - tr;
    }
  } finally {
    late.stop();
  }
  res.ms = performance.now() - t0;
  return res;
}

/**
 * One timer for a whole run (re-armed per request with refresh(), not a new
 * setTimeout each time): `race(p)` is p's value, or undefined when p is still
 * pending `ms` after the call.
 */
function lateTimer(ms: number): { race<T>(p: Promise<T>): Promise<T | undefined>; stop(): void } {
  let fire: (() => void) | undefined;
  const timer = setTimeout(() => fire?.(), ms);
  timer.unref();
  return {
    async race<T>(p: Promise<T>): Promise<T | undefined> {
      const late = new Promise<undefined>((resolve) => { fire = () => resolve(undefined); });
      timer.refresh();
      try {
        return await Promise.race([p, late]);
      } finally {
        fire = undefined;
      }
    },
    stop: () => clearTimeout(timer),
  };
}
