/**
 * Property-based fuzzing of every registered route (fast-check): thousands of
 * random and hostile bodies, query strings and path parameters. No answer is a
 * 5xx, the daemon does not crash, and nothing changes in the store.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../store/sqlite/index.js';
import type { buildApi } from './app.js';
import type { ApiPlatform } from './platform.js';
import { openStubStack, type StubStack } from '../../test/helpers/stub-stack.js';

let stack: StubStack;
let store: SqliteStore;
let platform: ApiPlatform;
let api: Awaited<ReturnType<typeof buildApi>>;

beforeAll(async () => {
  stack = await openStubStack('fuzz', { listener: 'unix', rateLimitPerSecond: 0 });
  ({ store, platform, api } = stack);
  await api.app.ready();
  await platform.tokens.create('keep', 'viewer');
});
afterAll(() => stack?.close());

const hostileString = fc.oneof(
  fc.string(),
  fc.constantFrom('..', '../../etc/passwd', '%2e%2e', '$(reboot)', '`id`', 'a;rm -rf /', '\u0000', 'x'.repeat(300), '__proto__', 'constructor', '-rf', ' ', 'ünï', '💥'),
);
const hostileValue = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.record({ spec: fc.anything({ maxDepth: 3 }) }),
  fc.record({ name: hostileString, role: fc.oneof(hostileString, fc.constantFrom('admin', 'viewer')) }, { requiredKeys: [] }),
  fc.record({ timeoutSeconds: fc.oneof(fc.integer(), fc.double(), hostileString), force: fc.anything() }, { requiredKeys: [] }),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}}')),
);
const query = fc.dictionary(fc.constantFrom('async', 'force', 'label', 'bytes', 'vm', 'status', 'timeout', 'limit', 'before', 'actor', 'x'), hostileString, { maxKeys: 3 });

describe('fuzzing every route', () => {
  it('answers below 500 to random and hostile input, and changes nothing', async () => {
    const snapshot = async () => JSON.stringify([await store.listVms(), (await store.listTokens()).map((t) => [t.name, t.role])]);
    let before = await snapshot();
    const routes = api.routes.filter((r) => !(r.method === 'GET' && r.url === '/v1/events'));
    let requests = 0;
    for (const r of routes) {
      await fc.assert(
        fc.asyncProperty(hostileValue, query, fc.array(hostileString, { minLength: 4, maxLength: 4 }), fc.boolean(), async (body, q, params, raw) => {
          let i = 0;
          const url = r.url.replace(/:([A-Za-z0-9_]+)/g, () => encodeURIComponent(params[i++] ?? 'x') || 'x');
          const qs = new URLSearchParams(q).toString();
          const res = await api.app.inject({
            method: r.method as 'GET',
            url: qs ? `${url}?${qs}` : url,
            ...(r.method === 'GET' || r.method === 'DELETE' ? {} : raw ? { payload: String(JSON.stringify(body) ?? '').slice(0, -1), headers: { 'content-type': 'application/json' } } : { payload: body as object }),
          });
          requests++;
          expect(res.statusCode, `${r.method} ${url} ${JSON.stringify(body)} -> ${res.body}`).toBeLessThan(500);
          const after = await snapshot();
          if (res.statusCode >= 400) expect(after, `${r.method} ${url} was refused but changed the store`).toEqual(before);
          before = after;
        }),
        { numRuns: 150 },
      );
    }
    expect(requests).toBeGreaterThan(2000);
    expect(await store.listVms()).toEqual([]); // no random spec is a valid VM
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  }, 120_000);
});
