import { describe, expect, it } from 'vitest';
import { freezeOutcome } from './snapshot-consistency.js';

describe('freezeOutcome', () => {
  it('is application-consistent only when at least one filesystem froze and nothing failed', () => {
    expect(freezeOutcome({ answered: true, frozen: 2 })).toEqual({ consistency: 'application-consistent', frozenFilesystems: 2 });
  });

  it('is crash-consistent when the agent froze zero filesystems (initramfs guest)', () => {
    const o = freezeOutcome({ answered: true, frozen: 0 });
    expect(o).toMatchObject({ consistency: 'crash-consistent', frozenFilesystems: 0 });
    expect(o.freezeNote).toMatch(/froze no filesystem/);
  });

  it('is crash-consistent when the agent did not answer or the freeze failed', () => {
    expect(freezeOutcome({ answered: false, frozen: 0, error: 'the guest agent did not answer' })).toEqual({
      consistency: 'crash-consistent', frozenFilesystems: 0, freezeNote: 'the guest agent did not answer',
    });
    expect(freezeOutcome({ answered: false, frozen: 0 }).consistency).toBe('crash-consistent');
    const failed = freezeOutcome({ answered: true, frozen: 1, error: 'guest-fsfreeze-freeze: failed to freeze /data: Device or resource busy' });
    expect(failed).toMatchObject({ consistency: 'crash-consistent', frozenFilesystems: 1 });
    expect(failed.freezeNote).toMatch(/\/data/);
  });
});
