import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { validateSpec } from './parse.js';

function problems(doc: unknown): Array<{ field: string; message: string }> {
  try {
    validateSpec(doc);
  } catch (err) {
    if (isPolyvisorError(err, 'SPEC_INVALID')) return err.details as Array<{ field: string; message: string }>;
    throw err;
  }
  throw new Error('valid');
}
const base = { name: 'a', boot: { kernel: '/k' } };
const messageOf = (doc: unknown, field: string) => problems(doc).filter((p) => p.field === field).map((p) => p.message);

describe('field problems in our words', () => {
  it('names each field once, even when two rules fail on it', () => {
    expect(messageOf({ ...base, name: '../../etc' }, 'name')).toHaveLength(1);
    let message = '';
    try {
      validateSpec({ ...base, name: '../../etc' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.match(/name: /g)).toHaveLength(1);
  });

  it('has one phrasing per memory rule, whatever the wrong value', () => {
    const form = 'memory must look like 512Mi, 2Gi or 262084Ki';
    const range = 'memory must be between 16 MiB and 4096 GiB';
    expect(messageOf({ ...base, memory: 'lots' }, 'memory')).toEqual([form]);
    expect(messageOf({ ...base, memory: true }, 'memory')).toEqual([form]);
    expect(messageOf({ ...base, memory: -5 }, 'memory')).toEqual([form]);
    expect(messageOf({ ...base, memory: 1.5 }, 'memory')).toEqual([form]);
    expect(messageOf({ ...base, memory: 1 }, 'memory')).toEqual([range]);
    expect(messageOf({ ...base, memory: '99999Gi' }, 'memory')).toEqual([range]);
  });

  it('never shows the validator\'s own text', () => {
    const p = problems({ ...base, cpu: { count: 0, model: 'z80' }, colour: 'blue', labels: 7, description: 5, disks: [{}] });
    expect(p).toEqual(expect.arrayContaining([
      { field: 'cpu.count', message: 'must be at least 1' },
      { field: 'cpu.model', message: expect.stringMatching(/^must be one of "host", "max", /) },
      { field: 'colour', message: 'is not a known field' },
      { field: 'labels', message: 'must be a mapping' },
      { field: 'description', message: 'must be text' },
      { field: 'disks.0.name', message: 'is required' },
    ]));
    for (const x of p) expect(x.message, `${x.field}: ${x.message}`).not.toMatch(/^(Invalid|Too (small|big)|Unrecognized)|expected|received/);
  });
});
