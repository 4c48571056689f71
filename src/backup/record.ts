/** One backup as the catalogue keeps it: a JSON file beside its disk images, written last. */
import type { VmSpec } from '../spec/index.js';

export interface BackupDiskFile {
  disk: string;
  /** File name inside the backup target's directory for the VM. */
  file: string;
  /** Bytes of the file (an incremental holds only the changed clusters). */
  sizeBytes: number;
  virtualSize: number;
  sha256: string;
}

export interface BackupRecord {
  version: 1;
  id: string;
  vm: string;
  vmId: string;
  kind: 'full' | 'incremental';
  /** The backup an incremental builds on (its images are the backing files). */
  parent: string | null;
  /** How it was taken: blockdev-backup from a running VM, or qemu-img convert of a stopped one. */
  mode: 'live' | 'offline';
  /** Why a full backup was taken when an incremental was possible in principle. */
  fullReason?: string;
  /** Persistent bitmap that tracks writes since this backup (live backups). */
  bitmap?: string;
  createdAt: string;
  durationMs: number;
  disks: BackupDiskFile[];
  spec: VmSpec;
}

export const BITMAP_PREFIX = 'pv-bk-';
