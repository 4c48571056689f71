/** Migration hints and explanations say each value once and speak of the transport in use. */
import { describe, expect, it } from 'vitest';
import type { PolyvisorError } from '../shared/index.js';
import { choosePolicy } from './policy.js';
import { checkMigrationSafety } from './safety.js';

const MiB = 1024 ** 2;

function unsafeError(memoryBytes: number): PolyvisorError {
  try {
    checkMigrationSafety({ vm: 'web', accel: 'tcg', qemuVersion: '7.2.22', memoryBytes }, false);
  } catch (err) {
    return err as PolyvisorError;
  }
  throw new Error('expected MIGRATION_UNSAFE');
}

describe('migration wording', () => {
  it('MIGRATION_UNSAFE suggests one safe size, once, and the command that overrides', () => {
    const e = unsafeError(256 * MiB);
    expect(e.code).toBe('MIGRATION_UNSAFE');
    expect(e.hint.match(/262084Ki/g)).toHaveLength(1);
    expect(e.hint).toContain('`polyvisor vm migrate web --force-unsafe`');
    expect(unsafeError(512 * MiB).hint).toContain('524228Ki');
    expect(e.hint).not.toContain(e.message);
  });

  it('a move over TCP is not explained in unix-socket terms, a move on one host is', () => {
    const tcp = choosePolicy({}, { transport: 'tcp', memoryBytes: 256 * MiB }).explanation;
    expect(tcp).not.toMatch(/unix/i);
    expect(tcp).toMatch(/one TCP stream/);
    expect(tcp).toMatch(/--bandwidth/);
    expect(choosePolicy({}, { transport: 'unix', memoryBytes: 256 * MiB }).explanation).toMatch(/unix-socket stream/);
  });
});
