import { describe, expect, it } from 'vitest';
import { mibOf, WorkDeadline } from './work-deadline.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('WorkDeadline', () => {
  it('gives up only after the stall limit without a new low, and says what it saw last', () => {
    const c = clock();
    const d = new WorkDeadline('disk mirror of data', { stallMs: 5_000, now: c.now });
    d.sample(100, 'left 100');
    c.advance(4_000);
    expect(d.sample(90, 'left 90')).toBe(true);
    c.advance(4_000);
    expect(d.sample(95, 'left 95')).toBe(false); // went up: no gain
    expect(() => d.check()).not.toThrow();
    c.advance(1_000);
    expect(d.stalled()).toBe(true);
    const err = d.timeout();
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toBe('disk mirror of data: gave up after 9.0 s, no progress for 5.0 s; last seen: left 95');
    expect(() => d.check()).toThrow(/no progress/);
  });

  it('expects the rest to take its measured time times the factor, never less than the floor', () => {
    const c = clock();
    const d = new WorkDeadline('x', { stallMs: 10_000, floorMs: 2_000, factor: 4, now: c.now });
    expect(d.expectedMs(100)).toBe(10_000); // no rate yet: the stall limit
    d.sample(1_000, '');
    c.advance(1_000);
    d.sample(900, ''); // 100 per second
    expect(d.rate()).toBe(100);
    expect(d.expectedMs()).toBe(36_000); // 900 left: 9 s, times 4
    expect(d.expectedMs(1)).toBe(2_000); // the floor
    expect(d.expectedMs(0)).toBe(2_000);
  });

  it('formats sizes for messages', () => {
    expect(mibOf(12 * 1024 ** 2, 32 * 1024 ** 2)).toBe('12.0 of 32.0 MiB');
  });
});
