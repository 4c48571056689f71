import { describe, expect, it } from 'vitest';
import { progressParser } from './progress.js';

describe('progressParser', () => {
  it('reads tokens split across chunks, never goes back, and ends at 1', () => {
    const seen: number[] = [];
    const p = progressParser((f) => seen.push(f));
    for (const chunk of ['    (0.00/10', '0%)\r    (12.5', '0/100%)\r', '    (12.50/100%)\r    (50.00/100%)\r    (5.00/100%)\r']) p.push(chunk);
    expect(seen).toEqual([0, 0.125, 0.5]);
    p.done();
    p.done();
    expect(seen).toEqual([0, 0.125, 0.5, 1]);
  });

  it('ignores noise and does not repeat 1', () => {
    const seen: number[] = [];
    const p = progressParser((f) => seen.push(f));
    p.push('x'.repeat(1000));
    p.push('    (100.00/100%)\r\n');
    p.done();
    expect(seen).toEqual([1]);
  });
});
