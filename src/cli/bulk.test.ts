import { describe, expect, it } from 'vitest';
import { mapLimit, parseSelector } from './bulk.js';

describe('bulk helpers', () => {
  it('mapLimit never runs more than the limit at once and keeps order', async () => {
    let running = 0;
    let peak = 0;
    const res = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n * 5));
      running--;
      return n * 10;
    });
    expect(res).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it('parses selectors', () => {
    expect(parseSelector(['env=test,tier=db', 'x='])).toEqual({ env: 'test', tier: 'db', x: '' });
    expect(() => parseSelector(['=a'])).toThrow(/KEY=VALUE/);
  });
});
