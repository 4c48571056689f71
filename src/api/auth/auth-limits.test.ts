/** Wrong tokens are rate-limited per source address; security headers are on every answer. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStubStack, type StubStack } from '../../../test/helpers/stub-stack.js';
import { API_CSP } from '../security-headers.js';
import { RateLimiter } from './rate-limit.js';

let stack: StubStack;
let good: string;
const WRONG = `pvt_${'A'.repeat(43)}`;

beforeAll(async () => {
  stack = await openStubStack('auth-limits', { listener: 'tcp', rateLimitPerSecond: 10_000, authFailuresPerMinute: 10 });
  good = (await stack.platform.tokens.create('good', 'viewer')).token;
});
afterAll(() => stack?.close());

const get = (token: string | undefined, remoteAddress: string, url = '/v1/vms') =>
  stack.api.app.inject({ method: 'GET', url, remoteAddress, headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('failed auth per source address', () => {
  it('10 wrong tokens answer 401, the 11th 429 AUTH_RATE_LIMITED with Retry-After; then even a good token from there waits', async () => {
    for (let i = 0; i < 10; i++) expect((await get(WRONG, '10.9.0.1')).statusCode).toBe(401);
    const r = await get(WRONG, '10.9.0.1');
    expect(r.statusCode).toBe(429);
    expect(r.json()).toMatchObject({ code: 'AUTH_RATE_LIMITED' });
    expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(60);
    const blocked = await get(good, '10.9.0.1');
    expect([blocked.statusCode, blocked.json<{ code: string }>().code]).toEqual([429, 'AUTH_RATE_LIMITED']);
    expect((await get(good, '10.9.0.2')).statusCode).toBe(200); // another source is not affected
    expect((await get(undefined, '10.9.0.1')).statusCode).toBe(401); // no token: not a guess, the looser limit
  });

  it('malformed Authorization headers count as wrong tokens', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await stack.api.app.inject({ method: 'GET', url: '/v1/vms', remoteAddress: '10.9.0.3', headers: { authorization: 'Basic abc' } });
      expect(r.statusCode).toBe(401);
    }
    expect((await get(WRONG, '10.9.0.3')).statusCode).toBe(429);
  });

  it('RateLimiter.peek takes nothing and refills with time', () => {
    const l = new RateLimiter(10 / 60, 10);
    for (let i = 0; i < 10; i++) expect(l.take('k', 0)).toBe(0);
    expect(l.peek('k', 0)).toBe(6);
    expect(l.peek('k', 0)).toBe(6);
    expect(l.peek('k', 6000)).toBe(0);
    expect(l.peek('other', 0)).toBe(0);
    expect(new RateLimiter(0, 0).peek('k')).toBe(0);
  });
});

describe('security headers', () => {
  it('are on JSON answers, refusals, unknown routes and the UI shell (which has its own CSP)', async () => {
    const answers = [await get(good, '10.9.1.1'), await get(undefined, '10.9.1.1'), await get(good, '10.9.1.1', '/v1/nope'), await get(undefined, '10.9.1.1', '/v1/health')];
    for (const r of answers) {
      expect(r.headers['x-frame-options'], String(r.statusCode)).toBe('DENY');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['content-security-policy']).toBe(API_CSP);
    }
    const ui = await get(undefined, '10.9.1.1', '/');
    expect(ui.headers['x-frame-options']).toBe('DENY');
    expect(String(ui.headers['content-security-policy'])).toMatch(/frame-ancestors 'none'/);
    expect(String(ui.headers['content-security-policy'])).toMatch(/script-src 'self'/);
    expect(String(ui.headers['content-security-policy'])).toMatch(/connect-src 'self'/);
  });
});
