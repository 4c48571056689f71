import { z } from 'zod';
import { parseSize } from './units.js';

/** A size: "256Mi", "1Gi", "262084Ki", or a number (of MiB for memory, of bytes for disks). Output: bytes. */
export const sizeText = (what: string, min: number, max: number, numberUnit: number) => {
  // One phrasing for the form (whatever the wrong value's type) and one for the range.
  const form = `${what} must look like 512Mi, 2Gi or 262084Ki`;
  return z.union([z.string(), z.number().int(form).positive(form)], { error: form }).transform((v, ctx) => {
    const bytes = typeof v === 'number' ? v * numberUnit : parseSize(v);
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: form });
      return z.NEVER;
    }
    if (bytes < min || bytes > max) {
      ctx.addIssue({ code: 'custom', message: `${what} must be between ${min / 1024 ** 2} MiB and ${max / 1024 ** 3} GiB` });
      return z.NEVER;
    }
    return bytes;
  }).pipe(z.number()); // never fails: says what the output is (bytes), for the API's response schemas
};

/** Guest RAM limits (16 MiB - 4 TiB); a bare number is MiB. */
export const memorySize = (what = 'memory') => sizeText(what, 16 * 1024 ** 2, 4 * 1024 ** 4, 1024 ** 2);
