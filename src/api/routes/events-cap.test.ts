/** Event streams per token are capped (audit defect 10): one viewer cannot hold every slot. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openStubStack, type StubStack } from '../../../test/helpers/stub-stack.js';
import { STREAMS_PER_TOKEN } from './events.js';

let stack: StubStack;
let base: string;
let viewer: string;
let other: string;

beforeAll(async () => {
  stack = await openStubStack('events-cap', { listener: 'tcp', rateLimitPerSecond: 10_000 });
  viewer = (await stack.platform.tokens.create('watcher', 'viewer')).token;
  other = (await stack.platform.tokens.create('other', 'viewer')).token;
  await stack.api.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(stack.api.app.server.address() as AddressInfo).port}`;
});
afterAll(() => stack?.close());

/** Opens GET /v1/events; resolves with the status and, for a stream, the request to close it. */
function open(token: string): Promise<{ status: number; body: string; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/v1/events`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode === 200) return resolve({ status: 200, body: '', close: () => req.destroy() });
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body, close: () => undefined }));
    });
    req.on('error', reject);
  });
}

describe('event streams per token', () => {
  it(`${STREAMS_PER_TOKEN} at once; the next answers 429 TOO_MANY_STREAMS; another token is not affected; closing one frees a slot`, async () => {
    const streams = [];
    for (let i = 0; i < STREAMS_PER_TOKEN; i++) streams.push(await open(viewer));
    expect(streams.every((s) => s.status === 200)).toBe(true);
    const over = await open(viewer);
    expect(over.status).toBe(429);
    expect(JSON.parse(over.body)).toMatchObject({ code: 'TOO_MANY_STREAMS' });
    const theirs = await open(other);
    expect(theirs.status).toBe(200);
    theirs.close();
    streams.pop()!.close();
    let again = await open(viewer);
    for (let i = 0; again.status !== 200 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20)); // the server sees the close a moment later
      again = await open(viewer);
    }
    expect(again.status).toBe(200);
    again.close();
    for (const s of streams) s.close();
  });
});

/** Opens a WebSocket on `url`: the socket when it upgraded, else the refusal's status and body. */
function openWs(url: string, token: string): Promise<{ status: number; body: string; close: () => void }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}${url}`, { headers: { authorization: `Bearer ${token}` } });
    ws.on('open', () => resolve({ status: 101, body: '', close: () => ws.terminate() }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, close: () => undefined }));
    });
    ws.on('error', reject);
  });
}

describe('stats streams per token (WebSocket)', () => {
  it(`${STREAMS_PER_TOKEN} at once; the next upgrade is refused with 429 TOO_MANY_STREAMS; another token and a plain GET are not affected; closing one frees a slot`, async () => {
    const streams = [];
    for (let i = 0; i < STREAMS_PER_TOKEN; i++) streams.push(await openWs('/v1/stats?interval=60', viewer));
    expect(streams.map((s) => s.status)).toEqual(Array(STREAMS_PER_TOKEN).fill(101));
    const over = await openWs('/v1/stats?interval=60', viewer);
    expect(over.status).toBe(429);
    expect(JSON.parse(over.body)).toMatchObject({ code: 'TOO_MANY_STREAMS', message: `token watcher already holds ${STREAMS_PER_TOKEN} stats streams` });
    const theirs = await openWs('/v1/stats?interval=60', other);
    expect(theirs.status).toBe(101);
    theirs.close();
    const plain = await fetch(`${base}/v1/stats`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(plain.status).toBe(200);
    streams.pop()!.close();
    let again = await openWs('/v1/stats?interval=60', viewer);
    for (let i = 0; again.status !== 101 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20));
      again = await openWs('/v1/stats?interval=60', viewer);
    }
    expect(again.status).toBe(101);
    again.close();
    for (const s of streams) s.close();
  });
});
