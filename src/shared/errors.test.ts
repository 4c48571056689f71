import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogue, exitCodeFor, PolyvisorError, renderErrorDocs } from './errors.js';

describe('error catalogue', () => {
  it('docs/errors.md is in step with the catalogue (regenerate: npx tsx scripts/gen-error-docs.ts)', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
    expect(doc).toBe(renderErrorDocs());
  });

  it('every entry has a status, an exit code and a hint', () => {
    for (const [code, e] of Object.entries(catalogue)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(e.status).toBeGreaterThanOrEqual(400);
      expect(e.hint.length, code).toBeGreaterThan(15);
    }
  });

  it('keeps the cause without repeating it and serializes to the API body', () => {
    const cause = new Error('ENOSPC');
    const e = new PolyvisorError('STORE_FAILED', 'could not save VM web', { cause });
    expect(e.cause).toBe(cause);
    expect(e.message).not.toContain('ENOSPC');
    expect(e.toJSON()).toEqual({ code: 'STORE_FAILED', message: 'could not save VM web', hint: catalogue.STORE_FAILED.hint });
    expect(exitCodeFor('VM_NOT_FOUND')).toBe(3);
    expect(exitCodeFor('NOT_A_CODE')).toBe(1);
  });
});
