import { describe, expect, it } from 'vitest';
import type { PolyvisorError } from '../shared/index.js';
import { parseTimeArg } from './time-arg.js';

const now = Date.parse('2026-12-04T12:00:00Z');

describe('times on the command line', () => {
  it('spans count ahead for --expires and back for --since', () => {
    expect(parseTimeArg('90d', '--expires', 'ahead', now)).toBe('2027-03-04T12:00:00.000Z');
    expect(parseTimeArg('12h', '--expires', 'ahead', now)).toBe('2026-12-05T00:00:00.000Z');
    expect(parseTimeArg('1h', '--since', 'ago', now)).toBe('2026-12-04T11:00:00.000Z');
    expect(parseTimeArg('2w', '--since', 'ago', now)).toBe('2026-11-20T12:00:00.000Z');
  });

  it('dates and times in ISO 8601', () => {
    expect(parseTimeArg('2027-01-31', '--expires', 'ahead', now)).toBe('2027-01-31T00:00:00.000Z');
    expect(parseTimeArg('2027-01-31T12:30:00Z', '--expires', 'ahead', now)).toBe('2027-01-31T12:30:00.000Z');
  });

  it('anything else is INVALID_ARGUMENT naming the flag and the forms', () => {
    for (const bad of ['soon', '90', '-1d', '2027-13-45', '1y']) {
      let err: PolyvisorError | undefined;
      try {
        parseTimeArg(bad, '--since', 'ago', now);
      } catch (e) {
        err = e as PolyvisorError;
      }
      expect(err?.code, bad).toBe('INVALID_ARGUMENT');
      expect(err?.message).toMatch(/--since .* must be a span like 90d/);
    }
  });
});
