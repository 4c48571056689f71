import { describe, expect, it } from 'vitest';
import { ActiveMigration } from './active.js';
import { choosePolicy } from './policy.js';
import { steering } from './steer.js';

const sample = (status: string, postcopy = false) => ({
  status, elapsedMs: 0, transferredBytes: 0, remainingBytes: 1, totalBytes: 1, dirtyPagesRate: 0, pageSize: 4096, iteration: 1, mbps: 0, cpuThrottlePercent: 0, postcopy,
});

describe('steering a migration', () => {
  it('asks for post-copy on every sample until one shows it (a request made while the stream sets up is not lost)', () => {
    const m = new ActiveMigration('vm1', 'manual', '');
    const s = steering(m, choosePolicy({ postcopy: 'manual' }, { transport: 'unix', memoryBytes: 1 }));
    expect(s.onProgress(sample('setup'))).toBeUndefined();
    m.postcopyRequested = true;
    expect(s.onProgress(sample('setup'))).toBe('postcopy');
    expect(s.onProgress(sample('active'))).toBe('postcopy');
    expect(m.phase).toBe('postcopy');
    expect(s.onProgress(sample('postcopy-active', true))).toBeUndefined();
    expect(m.postcopyRequested).toBe(false);
    expect(s.onProgress(sample('postcopy-active', true))).toBeUndefined();
  });
});
