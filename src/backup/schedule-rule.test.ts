import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { nextRun, parseRule } from './schedule-rule.js';

const at = (s: string) => new Date(s);

describe('schedule rules', () => {
  it('parses the three forms and refuses the rest with a clear error', () => {
    expect(parseRule('every 90s')).toEqual({ kind: 'every', ms: 90_000 });
    expect(parseRule('Every 6h')).toEqual({ kind: 'every', ms: 6 * 3_600_000 });
    expect(parseRule('daily 02:00')).toEqual({ kind: 'daily', minute: 120 });
    expect(parseRule('weekly sunday 03:30')).toEqual({ kind: 'weekly', day: 0, minute: 210 });
    for (const bad of ['every 2s', 'every 5x', 'daily 24:00', 'daily 2:00', 'weekly xyz 01:00', '0 2 * * *', '']) {
      let err: unknown;
      try { parseRule(bad); } catch (e) { err = e; }
      expect(isPolyvisorError(err, 'INVALID_ARGUMENT'), bad).toBe(true);
    }
  });

  it('computes the next run strictly after the last one (UTC)', () => {
    expect(nextRun(parseRule('every 1h'), at('2026-11-22T10:15:00Z')).toISOString()).toBe('2026-11-22T11:15:00.000Z');
    expect(nextRun(parseRule('daily 02:00'), at('2026-11-22T01:59:59Z')).toISOString()).toBe('2026-11-22T02:00:00.000Z');
    expect(nextRun(parseRule('daily 02:00'), at('2026-11-22T02:00:00Z')).toISOString()).toBe('2026-11-23T02:00:00.000Z');
    // 2026-11-22 is a Sunday
    expect(nextRun(parseRule('weekly sun 03:30'), at('2026-11-22T04:00:00Z')).toISOString()).toBe('2026-11-29T03:30:00.000Z');
    expect(nextRun(parseRule('weekly mon 00:00'), at('2026-11-22T04:00:00Z')).toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(nextRun(parseRule('daily 23:59'), at('2026-12-31T23:59:30Z')).toISOString()).toBe('2027-01-01T23:59:00.000Z');
  });
});
