/**
 * The consistency label of a live disk snapshot, from what the guest
 * filesystem freeze really did. "application-consistent" only when the agent
 * froze at least one filesystem and reported no failure; anything else
 * (no agent, an agent error, zero filesystems frozen, as on an initramfs
 * guest) is "crash-consistent", with the reason kept beside the label.
 */
import type { FreezeResult } from '../drivers/index.js';
import type { Consistency } from './snapshot-catalogue.js';

export interface FreezeOutcome {
  consistency: Extract<Consistency, 'application-consistent' | 'crash-consistent'>;
  /** Filesystems the guest agent froze for the snapshot. */
  frozenFilesystems: number;
  /** Why the snapshot is only crash-consistent (absent when application-consistent). */
  freezeNote?: string;
}

export function freezeOutcome(f: FreezeResult): FreezeOutcome {
  if (f.error !== undefined) return { consistency: 'crash-consistent', frozenFilesystems: f.frozen, freezeNote: f.error };
  if (!f.answered) return { consistency: 'crash-consistent', frozenFilesystems: 0, freezeNote: 'the guest agent did not answer' };
  if (f.frozen < 1) return { consistency: 'crash-consistent', frozenFilesystems: 0, freezeNote: 'the guest agent froze no filesystem (none that supports freezing is mounted)' };
  return { consistency: 'application-consistent', frozenFilesystems: f.frozen };
}
