/**
 * The snapshot tree of one VM, kept as `snapshots.json` in the VM directory
 * (written to a temp name, fsynced, renamed). A JSON file rather than a store
 * table: it travels with the VM's disks (the internal snapshots live inside
 * them), and a row is written only after QEMU finished the snapshot, so a
 * crash leaves at most a nameless tag in the image, which the next create
 * of that name removes first.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fail, writeFileAtomic } from '../shared/index.js';

export const SNAPSHOT_FILE = 'snapshots.json';
export const MAX_SNAPSHOT_DEPTH = 32;

export type SnapshotKind = 'ram' | 'disk';
/** internal: a qcow2 snapshot inside the image; external: an overlay chain (files beside the disk). */
export type SnapshotType = 'internal' | 'external';
export type Consistency = 'full-state' | 'application-consistent' | 'crash-consistent' | 'offline';

export interface SnapshotNode {
  name: string;
  description: string;
  parent: string | null;
  kind: SnapshotKind;
  consistency: Consistency;
  /** Live disk snapshots: filesystems the guest agent froze (application-consistent needs 1 or more). Absent: no freeze was tried (RAM, offline, or an older file). */
  frozenFilesystems?: number;
  /** Why a live disk snapshot is only crash-consistent (no agent, an agent error, nothing frozen). */
  freezeNote?: string;
  createdAt: string;
  /** Spec names of the disks the snapshot covers. */
  disks: string[];
  /** VM state when taken (running, paused or stopped). */
  vmState: string;
  /** Absent in files written before external snapshots existed: internal. */
  type?: SnapshotType;
  /** External nodes: disk name → the node's file (in the disk's directory). */
  files?: Record<string, string>;
  /** A delete started and did not finish: not revertable; `rm` again finishes it. */
  deleting?: boolean;
}

export interface SnapshotCatalogue {
  version: 1;
  /** The node the VM's current state descends from (null: from no snapshot). */
  current: string | null;
  nodes: SnapshotNode[];
  /** Set when a revert reset dirty bitmaps: the next backup must be full. */
  bitmapsResetAt?: string;
  /** Why (for the backup's fullReason); absent: a snapshot revert. */
  bitmapsResetReason?: string;
  /** An external create or revert in progress (written before its first change): what to undo or finish after a crash. */
  pending?: PendingExternal;
}

export interface PendingExternal {
  op: 'create' | 'revert';
  /** The node being created, or reverted to. */
  node: string;
  /** disk → its active image before the operation. */
  previous: Record<string, string>;
  /** disk → the new overlay the operation makes active. */
  overlays: Record<string, string>;
}

export const typeOf = (n: SnapshotNode): SnapshotType => n.type ?? 'internal';

export async function readCatalogue(vmDir: string): Promise<SnapshotCatalogue> {
  try {
    const doc = JSON.parse(await readFile(path.join(vmDir, SNAPSHOT_FILE), 'utf8')) as SnapshotCatalogue;
    if (doc.version !== 1 || !Array.isArray(doc.nodes)) throw new Error(`unknown ${SNAPSHOT_FILE} version`);
    return doc;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, current: null, nodes: [] };
    throw err;
  }
}

export function writeCatalogue(vmDir: string, doc: SnapshotCatalogue): Promise<void> {
  return writeFileAtomic(path.join(vmDir, SNAPSHOT_FILE), JSON.stringify(doc, null, 2) + '\n', 0o640);
}

export function findNode(doc: SnapshotCatalogue, vm: string, name: string): SnapshotNode {
  const n = doc.nodes.find((x) => x.name === name);
  if (!n) fail('SNAPSHOT_NOT_FOUND', `VM ${vm} has no snapshot named ${name}`);
  return n;
}

/** Number of nodes from the root to `name` inclusive (0 for null). */
export function depthOf(doc: SnapshotCatalogue, name: string | null): number {
  let depth = 0;
  for (let cur = name; cur !== null; depth++) {
    cur = doc.nodes.find((x) => x.name === cur)?.parent ?? null;
    if (depth > doc.nodes.length) throw new Error('snapshot tree has a cycle');
  }
  return depth;
}

/** Removes `name`: its children hang from its parent; `current` moves up if it pointed at it. */
export function withoutNode(doc: SnapshotCatalogue, name: string): SnapshotCatalogue {
  const n = doc.nodes.find((x) => x.name === name);
  if (!n) return doc;
  return {
    ...doc,
    current: doc.current === name ? n.parent : doc.current,
    nodes: doc.nodes.filter((x) => x.name !== name).map((x) => (x.parent === name ? { ...x, parent: n.parent } : x)),
  };
}
