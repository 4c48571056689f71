import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { anySignal, timeoutSignal } from './abort.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('timeoutSignal with a parent', () => {
  it('still fires after garbage collection (Node 20\'s AbortSignal.any holds an unreferenced AbortSignal.timeout weakly: it never fired)', async () => {
    const parent = new AbortController();
    const ours = timeoutSignal(100, parent.signal);
    for (let i = 0; i < 5; i++) {
      gc();
      await pause(60);
    }
    expect(ours.aborted).toBe(true);
    expect((ours.reason as DOMException).name).toBe('TimeoutError');
    // (The bare AbortSignal.any([AbortSignal.timeout(100), parent]) made beside it stays unaborted here.)
  });

  it('follows its parent, and anySignal any of its sources', () => {
    const parent = new AbortController();
    const s = timeoutSignal(60_000, parent.signal);
    parent.abort(new Error('stop'));
    expect(s.aborted).toBe(true);
    const a = new AbortController();
    const b = new AbortController();
    const either = anySignal([a.signal, b.signal]);
    b.abort();
    expect(either.aborted).toBe(true);
  });
});
