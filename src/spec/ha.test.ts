import { describe, expect, it } from 'vitest';
import { validateSpec } from './index.js';

const base = { name: 'web', disks: [{ name: 'root', size: '1Gi' }] };

describe('spec ha', () => {
  it('is absent by default and for false', () => {
    expect(validateSpec(base).ha).toBeUndefined();
    expect(validateSpec({ ...base, ha: false }).ha).toBeUndefined();
  });
  it('true takes the defaults', () => {
    expect(validateSpec({ ...base, ha: true }).ha).toEqual({ priority: 0, restricted: false, maxRestarts: 3 });
  });
  it('takes priority, group, restricted and maxRestarts, and refuses the rest', () => {
    expect(validateSpec({ ...base, ha: { priority: 5, group: 'rack1', restricted: true } }).ha).toEqual({ priority: 5, group: 'rack1', restricted: true, maxRestarts: 3 });
    expect(() => validateSpec({ ...base, ha: { priority: -1 } })).toThrow(/priority/);
    expect(() => validateSpec({ ...base, ha: { fence: 'now' } })).toThrow(/fence/);
    expect(() => validateSpec({ ...base, ha: 'yes' })).toThrow(/ha/);
  });
});
