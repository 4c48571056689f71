/**
 * The store's VM re-read: an answer in flight may predate the event that
 * asked for the next read (web-ui's keyboard case once saw a kill's
 * "stopped" overwritten by a slow read that still said "running"). A
 * scripted fetch answers in the order the test says; no browser or daemon.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { VmView } from './types.js';
import { getState, putVm, refreshVm } from './store.js';

beforeAll(() => {
  (globalThis as { sessionStorage?: unknown }).sessionStorage = { getItem: () => 'tok', setItem: () => undefined, removeItem: () => undefined };
});

const view = (state: string): VmView => ({ name: 'web2', state, actions: [] } as unknown as VmView);

describe('refreshVm', () => {
  it('reads once more when asked while a read is in flight, so the newest answer wins', async () => {
    const pending: Array<(state: string) => void> = [];
    let calls = 0;
    (globalThis as { fetch?: unknown }).fetch = (): Promise<Response> => {
      calls++;
      return new Promise((resolve) => pending.push((state) => resolve(new Response(JSON.stringify(view(state)), { headers: { 'content-type': 'application/json' } }))));
    };
    putVm(view('running'));
    const first = refreshVm('web2'); // a read that will answer "running"
    await new Promise((r) => setTimeout(r, 0));
    putVm(view('stopped')); // the event of the kill, then its own read, asked while the first is in flight
    const second = refreshVm('web2');
    await second;
    pending.shift()!('running'); // the slow first answer arrives after the event
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toBe(2);
    pending.shift()!('stopped');
    await first;
    expect(calls).toBe(2);
    expect(getState().vms.get('web2')?.state).toBe('stopped');
  });
});
