import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../../shared/index.js';
import { formatRequirement, parseSelector, unmetRequirement } from './selector.js';

const labels = { zone: 'a', disk: 'ssd', gpu: 'yes' };
const unmet = (sel: string, l: Record<string, string> = labels): string | undefined => {
  const r = unmetRequirement(parseSelector(sel), l);
  return r && formatRequirement(r);
};

describe('host selectors (Kubernetes syntax)', () => {
  it('matches equality, inequality, set and existence requirements', () => {
    expect(unmet('zone=a')).toBeUndefined();
    expect(unmet('zone==a')).toBeUndefined();
    expect(unmet('zone=b')).toBe('zone=b');
    expect(unmet('zone!=b')).toBeUndefined();
    expect(unmet('zone!=a')).toBe('zone!=a');
    expect(unmet('rack!=r1')).toBeUndefined(); // absent key: != holds, as in Kubernetes
    expect(unmet('zone in (a, b)')).toBeUndefined();
    expect(unmet('zone in (b,c)')).toBe('zone in (b,c)');
    expect(unmet('rack in (r1)')).toBe('rack in (r1)');
    expect(unmet('zone notin (b,c)')).toBeUndefined();
    expect(unmet('zone notin (a)')).toBe('zone notin (a)');
    expect(unmet('rack notin (r1)')).toBeUndefined();
    expect(unmet('gpu')).toBeUndefined();
    expect(unmet('!gpu')).toBe('!gpu');
    expect(unmet('!rack')).toBeUndefined();
    expect(unmet('rack')).toBe('rack');
  });

  it('needs every requirement and reports the first unmet one', () => {
    expect(unmet('zone in (a,b), disk=ssd, !rack')).toBeUndefined();
    expect(unmet('zone in (a,b),disk=hdd,gpu')).toBe('disk=hdd');
    expect(parseSelector('')).toEqual([]);
    expect(parseSelector('  ')).toEqual([]);
  });

  it.each([
    ['zone=a,,disk=ssd', 'empty requirement'],
    ['zone in (a,b', 'unbalanced'],
    ['zone in ((a))', 'unbalanced'],
    ['zone in ()', 'empty value'],
    ['zo ne=a', 'not a label key'],
    ['zone=a b', 'not a label value'],
    ['$(reboot)', 'not a label key'],
  ])('rejects %j with HOST_SELECTOR_INVALID (%s)', (text, what) => {
    let err: unknown;
    try {
      parseSelector(text);
    } catch (e) {
      err = e;
    }
    expect(isPolyvisorError(err, 'HOST_SELECTOR_INVALID')).toBe(true);
    expect((err as Error).message).toContain(what);
  });
});
