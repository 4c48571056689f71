import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { validateSpec } from './parse.js';

const problems = (fn: () => unknown): Array<{ field: string; message: string }> => {
  try {
    fn();
  } catch (err) {
    if (isPolyvisorError(err, 'SPEC_INVALID')) return err.details as Array<{ field: string; message: string }>;
    throw err;
  }
  throw new Error('expected SPEC_INVALID');
};

describe('disk.encrypt', () => {
  it('is accepted on a qcow2 disk and absent by default (old specs are unchanged)', () => {
    const s = validateSpec({ name: 'a', disks: [{ name: 'd', size: '1G', encrypt: true }, { name: 'e', size: '1G' }] });
    expect(s.disks[0]).toMatchObject({ format: 'qcow2', encrypt: true });
    expect(s.disks[1]).not.toHaveProperty('encrypt');
  });

  it('names the field for a raw disk and a cdrom', () => {
    const raw = problems(() => validateSpec({ name: 'a', disks: [{ name: 'd', size: '1G', format: 'raw', encrypt: true }] }));
    expect(raw).toEqual([expect.objectContaining({ field: 'disks.0.encrypt', message: expect.stringContaining('format qcow2') })]);
    const cd = problems(() => validateSpec({ name: 'a', boot: { kernel: '/k' }, disks: [{ name: 'c', path: '/x.iso', media: 'cdrom', format: 'raw', encrypt: true }] }));
    expect(cd.map((p) => p.field)).toContain('disks.0.encrypt');
  });

  it('refuses a non-boolean', () => {
    expect(problems(() => validateSpec({ name: 'a', disks: [{ name: 'd', size: '1G', encrypt: 'yes' }] }))[0]!.field).toBe('disks.0.encrypt');
  });
});
