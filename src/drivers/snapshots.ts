/**
 * The snapshot capability of a running instance: internal qcow2 snapshots
 * with RAM (snapshot-save/-load/-delete jobs), disk-only internal snapshots
 * taken while the guest runs, and guest filesystem freeze/thaw through the
 * guest agent. lifecycle/snapshot-service.ts decides when; drivers/qemu
 * implements it. Disks are named by their spec names.
 */
export interface LoadSnapshotResult {
  /** Dirty bitmaps that had to be removed before the load (re-created empty afterwards). */
  bitmapsReset: string[];
}

/** What a guest filesystem freeze did. */
export interface FreezeResult {
  /** The guest agent was reached: a thaw is owed, even when the freeze failed. */
  answered: boolean;
  /** Filesystems the agent froze (its reply to guest-fsfreeze-freeze). */
  frozen: number;
  /** Why nothing (or not everything) was frozen: no agent, or the agent's error. */
  error?: string;
}

export interface Snapshottable {
  /** Saves RAM, device and disk state of `disks` under `tag` (the first disk holds the RAM state). */
  saveSnapshot(tag: string, disks: readonly string[], signal: AbortSignal): Promise<void>;
  /** Loads snapshot `tag` (taken with saveSnapshot); dirty bitmaps are removed first so QEMU accepts it. */
  loadSnapshot(tag: string, disks: readonly string[], signal: AbortSignal): Promise<LoadSnapshotResult>;
  /** Deletes internal snapshot `tag` from `disks`; a disk without it is skipped. */
  deleteSnapshot(tag: string, disks: readonly string[], signal: AbortSignal): Promise<void>;
  /** Disk-only internal snapshot of `disks`, atomically (one transaction), while the guest runs. */
  diskSnapshot(tag: string, disks: readonly string[], signal: AbortSignal): Promise<void>;
  /** Freezes the guest's filesystems through the guest agent and says how many it froze. */
  freezeFilesystems(signal: AbortSignal): Promise<FreezeResult>;
  thawFilesystems(signal: AbortSignal): Promise<void>;
}

/** One disk's overlay for an external snapshot: `file` (qcow2, created by the caller) becomes the active image. */
/** `encrypted`: the overlay is LUKS qcow2 under the disk's passphrase (QEMU already holds it as the disk's secret object). */
export interface ExternalOverlay { disk: string; file: string; encrypted?: boolean }

/** Merge the image below chain[index] into chain[index] (0 = active); its new backing file name, or null for none. */
export interface StreamRequest { disk: string; index: number; backingFile: string | null }

/** Commit the disk's active overlay into its backing image, which then becomes the active image. */
export interface CommitRequest {
  disk: string;
  /** Called once the job is ready to pivot, before it is told to (a test-only delay point hangs here). */
  beforeComplete?: () => Promise<void>;
}

/** External (overlay) snapshots of a running instance. */
export interface ExternalSnapshottable {
  /** Puts every overlay on top of its disk's active image in one transaction, carrying the dirty bitmaps over. */
  externalSnapshot(overlays: readonly ExternalOverlay[], signal: AbortSignal): Promise<void>;
  /** The file of the disk's active image as QEMU has it open. */
  activeFile(disk: string, signal: AbortSignal): Promise<string>;
  /** block-stream: the image at `index` absorbs its backing image. */
  streamDisk(r: StreamRequest, signal: AbortSignal): Promise<void>;
  /** Active commit (block-commit + block-job-complete): the overlay's data goes down, QEMU pivots to the backing image. */
  commitActive?(r: CommitRequest, signal: AbortSignal): Promise<void>;
}

export function canSnapshotExternal(i: unknown): i is ExternalSnapshottable {
  const s = i as Partial<ExternalSnapshottable> | undefined;
  return typeof s?.externalSnapshot === 'function' && typeof s.streamDisk === 'function' && typeof s.activeFile === 'function';
}

export function canSnapshot(i: unknown): i is Snapshottable {
  const s = i as Partial<Snapshottable> | undefined;
  return typeof s?.saveSnapshot === 'function' && typeof s.loadSnapshot === 'function' && typeof s.diskSnapshot === 'function';
}
