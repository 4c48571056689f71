import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { parseMigrateOptions } from './options.js';
import { choosePolicy, DEFAULT_DOWNTIME_MS, nextDowntimeLimit, shouldSwitchToPostcopy } from './policy.js';
import { checkMigrationSafety, safeMemorySuggestion, tcgDirtyBitmapRisk } from './safety.js';

const MiB = 1024 ** 2;
const ctx = { transport: 'unix' as const, memoryBytes: 256 * MiB };
const progress = { status: 'active', elapsedMs: 0, transferredBytes: 0, remainingBytes: 0, totalBytes: 0, dirtyPagesRate: 0, pageSize: 4096, iteration: 1, mbps: 0, cpuThrottlePercent: 0, postcopy: false };

describe('migration policy', () => {
  it('defaults: 50 ms, unlimited bandwidth on one host, auto-converge, no post-copy, and says why', () => {
    const p = choosePolicy({}, ctx);
    expect(p.tuning).toEqual({ downtimeLimitMs: DEFAULT_DOWNTIME_MS, autoConverge: true, postcopy: false, multifdChannels: 1, xbzrleCacheBytes: 0 });
    expect(p.postcopy).toBe('off');
    expect(p.timeoutMs).toBe(600_000);
    expect(p.explanation).toMatch(/downtime limit 50 ms/);
    expect(p.explanation).toMatch(/bandwidth unlimited/);
    expect(p.explanation).toMatch(/auto-converge on/);
    expect(p.explanation).toMatch(/post-copy off/);
  });

  it('post-copy turns auto-converge off unless asked, and honours explicit knobs', () => {
    const p = choosePolicy({ postcopy: 'auto', downtimeMs: 20, bandwidthMiBps: 100, multifd: 4, xbzrle: true }, ctx);
    expect(p.tuning).toMatchObject({ downtimeLimitMs: 20, maxBandwidthBytesPerS: 100 * MiB, autoConverge: false, postcopy: true, multifdChannels: 4 });
    expect(p.tuning.xbzrleCacheBytes).toBe(64 * MiB);
    expect(p.explanation).toMatch(/switch automatically/);
    expect(choosePolicy({ postcopy: 'manual', autoConverge: true }, ctx).tuning.autoConverge).toBe(true);
  });

  it('switches to post-copy after the first pass, or when pre-copy does not converge', () => {
    expect(shouldSwitchToPostcopy('after-precopy', { ...progress, iteration: 1 })).toBe(false);
    expect(shouldSwitchToPostcopy('after-precopy', { ...progress, iteration: 2 })).toBe(true);
    expect(shouldSwitchToPostcopy('auto', { ...progress, iteration: 3 })).toBe(false);
    expect(shouldSwitchToPostcopy('auto', { ...progress, iteration: 6 })).toBe(true);
    expect(shouldSwitchToPostcopy('auto', { ...progress, elapsedMs: 11_000 })).toBe(true);
    expect(shouldSwitchToPostcopy('manual', { ...progress, iteration: 9 })).toBe(false);
    expect(shouldSwitchToPostcopy('after-precopy', { ...progress, iteration: 5, status: 'setup' })).toBe(false);
  });
});

describe('adaptive downtime limit', () => {
  it('doubles the default 50 ms per pass after pass 3, up to 200 ms; an explicit limit stays fixed', () => {
    const plan = choosePolicy({}, ctx);
    expect(plan.downtimeCeilingMs).toBe(200);
    expect(nextDowntimeLimit(plan, { ...progress, iteration: 3 }, 50)).toBeUndefined();
    expect(nextDowntimeLimit(plan, { ...progress, iteration: 4 }, 50)).toBe(100);
    expect(nextDowntimeLimit(plan, { ...progress, iteration: 4 }, 100)).toBeUndefined();
    expect(nextDowntimeLimit(plan, { ...progress, iteration: 5 }, 100)).toBe(200);
    expect(nextDowntimeLimit(plan, { ...progress, iteration: 9 }, 200)).toBeUndefined();
    expect(nextDowntimeLimit(plan, { ...progress, iteration: 6, status: 'postcopy-active' }, 50)).toBeUndefined();
    const fixed = choosePolicy({ downtimeMs: 30 }, ctx);
    expect(nextDowntimeLimit(fixed, { ...progress, iteration: 8 }, 30)).toBeUndefined();
  });
});

describe('migration options', () => {
  it('accepts known options and refuses unknown or bad ones', () => {
    expect(parseMigrateOptions({ downtimeMs: 30, postcopy: 'manual', forceUnsafe: true })).toEqual({ downtimeMs: 30, postcopy: 'manual', forceUnsafe: true });
    expect(() => parseMigrateOptions({ downtime: 30 })).toThrow(/unknown migration option "downtime"/);
    expect(() => parseMigrateOptions({ downtimeMs: 0 })).toThrow(/downtimeMs must be/);
    expect(() => parseMigrateOptions({ postcopy: 'yes' })).toThrow(/one of off, manual, after-precopy, auto/);
  });
});

describe('QEMU < 9.0 TCG dirty-bitmap bug', () => {
  const vm = { vm: 'web', accel: 'tcg' as const, qemuVersion: '7.2.22' };
  it('flags TCG + QEMU < 9 + RAM a multiple of 256 KiB only', () => {
    expect(tcgDirtyBitmapRisk({ ...vm, memoryBytes: 256 * MiB })).toBe(true);
    expect(tcgDirtyBitmapRisk({ ...vm, memoryBytes: 262084 * 1024 })).toBe(false);
    expect(tcgDirtyBitmapRisk({ ...vm, accel: 'kvm', memoryBytes: 256 * MiB })).toBe(false);
    expect(tcgDirtyBitmapRisk({ ...vm, qemuVersion: '9.0.0', memoryBytes: 256 * MiB })).toBe(false);
    expect(tcgDirtyBitmapRisk({ ...vm, qemuVersion: '8.2.2', memoryBytes: 1024 * MiB })).toBe(true);
  });

  it('refuses with MIGRATION_UNSAFE and a hint naming a safe size, unless forced', () => {
    try {
      checkMigrationSafety({ ...vm, memoryBytes: 256 * MiB }, false);
      expect.unreachable();
    } catch (err) {
      expect(isPolyvisorError(err, 'MIGRATION_UNSAFE')).toBe(true);
      expect((err as { hint: string }).hint).toMatch(/262084Ki/);
      expect((err as { hint: string }).hint).toMatch(/KVM|QEMU >= 9.0/);
    }
    expect(checkMigrationSafety({ ...vm, memoryBytes: 256 * MiB }, true)[0]).toMatch(/forced/);
    expect(checkMigrationSafety({ ...vm, memoryBytes: 262084 * 1024 }, false)).toEqual([]);
    expect(safeMemorySuggestion(1024 * MiB)).toBe('1048516Ki');
    expect(tcgDirtyBitmapRisk({ ...vm, memoryBytes: 1048516 * 1024 })).toBe(false);
  });
});
