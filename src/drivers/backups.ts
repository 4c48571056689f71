/**
 * The backup capability of a running instance: point-in-time copies of its
 * disks with blockdev-backup, and the persistent dirty bitmaps that make the
 * next copy incremental. backup/ decides what to copy; drivers/qemu does it.
 * Disks are named by their spec names.
 */
export interface DiskBitmap {
  name: string;
  persistent: boolean;
  /** QEMU could not trust it (e.g. the process died without saving it). */
  inconsistent: boolean;
}

export interface BackupJob {
  /** disk name → target image (qcow2, created by the caller; for incrementals backed by the previous backup). */
  targets: Record<string, string>;
  /** Disks whose target is LUKS qcow2 under the disk's own passphrase (QEMU opens it with the disk's secret object). */
  encrypted?: readonly string[];
  /** full: every allocated cluster; incremental: the clusters dirty in `fromBitmap`. */
  sync: 'full' | 'incremental';
  fromBitmap?: string;
  /** Persistent bitmap created in the same transaction, tracking writes after this backup. */
  newBitmap: string;
  /** Bandwidth cap per disk job in bytes per second (none: as fast as it goes). */
  speed?: number;
  /** Called about twice a second with the bytes copied so far and the bytes to copy (all disks). */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

export interface Backupable {
  bitmaps(disks: readonly string[], signal: AbortSignal): Promise<Record<string, DiskBitmap[]>>;
  /** Copies all disks at one point in time; resolves when every copy finished. Nothing is left attached. */
  backupDisks(job: BackupJob, signal: AbortSignal): Promise<void>;
  removeBitmap(disk: string, name: string, signal: AbortSignal): Promise<void>;
}

export function canBackup(i: unknown): i is Backupable {
  const b = i as Partial<Backupable> | undefined;
  return typeof b?.backupDisks === 'function' && typeof b.bitmaps === 'function' && typeof b.removeBitmap === 'function';
}
