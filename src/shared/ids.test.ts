import { describe, expect, it } from 'vitest';
import { newId } from './ids.js';

describe('newId', () => {
  it('is prefix, base-36 time and 8 hex digits, different each time across pool refills', () => {
    const ids = Array.from({ length: 2_000 }, () => newId('req')); // 2,000 x 4 bytes: the 1 KiB pool refills several times
    for (const id of ids) expect(id).toMatch(/^req-[0-9a-z]+-[0-9a-f]{8}$/);
    expect(new Set(ids).size).toBe(ids.length);
    const tails = new Set(ids.map((id) => id.slice(-8)));
    expect(tails.size).toBe(ids.length);
  });
});
