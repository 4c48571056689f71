/**
 * External snapshots as nodes of the snapshot tree (docs/snapshots-backups.md).
 * A node's file per disk is the image that was active when it was taken
 * (its backing is the parent node's file); the VM's spec always points at
 * the active overlay. Create: new overlay file → spec points at it → QEMU
 * switches (blockdev-snapshot) → catalogue row; every prefix of that order
 * leaves a state sweepExternal() can finish or undo. Revert puts a fresh
 * overlay on the node's file (the VM is stopped for it). Delete merges so no
 * other node loses data, moving the smaller side: a sole dependent with less
 * data than the node's file is committed down into it (offline: qemu-img
 * commit, the file then takes the dependent's name; running, when the
 * dependent is the active overlay: an active commit, and the spec names the
 * node's file from then on), else the node's file is copied up into its
 * dependents (block-stream for the one in the running chain, qemu-img rebase
 * for the others). Create and revert write their intent into the
 * catalogue first, so sweepExternal() can finish or undo them after a crash.
 */
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ExternalSnapshottable } from '../drivers/index.js';
import type { Logger } from '../shared/index.js';
import { faultPoint } from './fault-points.js';
import type { PendingExternal, SnapshotCatalogue, SnapshotNode } from './snapshot-catalogue.js';
import {
  backingOf, chainOnDisk, commitIntoBacking, createOverlayFile, exists, isOverlayOf, overlayPath, rebaseOnto, virtualSize,
} from './snapshot-files.js';

export interface ExternalContext {
  /** disk name → path of its active image (the spec's path); updated by setActive. */
  active: Record<string, string>;
  /** The running instance, or undefined for a stopped VM. */
  inst: ExternalSnapshottable | undefined;
  signal: AbortSignal;
  log: Logger;
  /** Points the spec's disks at other images, durably, and updates `active`. */
  setActive(paths: Record<string, string>): Promise<void>;
  /** Writes (or clears) the intent of the operation in progress into the catalogue, durably. */
  setPending(p: PendingExternal | undefined): Promise<void>;
  /** Encrypted disks: disk name → its passphrase, which every image of its chain is encrypted with (never logged). */
  keys?: Readonly<Record<string, string>>;
}

/**
 * Takes external snapshot `name` of `disks`; `around` wraps QEMU's switch
 * (freeze/thaw). Returns disk → the node's file name. The intent stays in
 * the catalogue: the caller clears it in the same write that adds the row.
 */
export async function createExternal(
  c: ExternalContext, name: string, disks: readonly string[], around: (f: () => Promise<void>) => Promise<void>,
): Promise<Record<string, string>> {
  const old = { ...c.active };
  const overlays = Object.fromEntries(disks.map((d) => [d, overlayPath(old[d]!, d)]));
  await c.setPending({ op: 'create', node: name, previous: pick(old, disks), overlays });
  try {
    for (const d of disks) await createOverlayFile(overlays[d]!, old[d]!, await virtualSize(old[d]!, c.signal), c.signal, c.keys?.[d]);
    await faultPoint('external-create:after-files');
    await c.setActive(overlays);
    await faultPoint('external-create:after-spec');
    const inst = c.inst;
    try {
      if (inst) await around(() => inst.externalSnapshot(disks.map((d) => ({ disk: d, file: overlays[d]!, encrypted: c.keys?.[d] !== undefined })), c.signal));
    } catch (err) {
      await c.setActive(pick(old, disks)); // the transaction is all or nothing: QEMU still writes the old images
      throw err;
    }
    await faultPoint('external-create:after-switch');
  } catch (err) {
    for (const f of Object.values(overlays)) await rm(f, { force: true });
    await c.setPending(undefined);
    throw err;
  }
  return Object.fromEntries(disks.map((d) => [d, path.basename(old[d]!)]));
}

/** Every disk of the (stopped) VM becomes a fresh overlay on the node's file; the old active images are removed. */
export async function revertExternal(c: ExternalContext, doc: SnapshotCatalogue, node: SnapshotNode): Promise<void> {
  const old = { ...c.active };
  const overlays = Object.fromEntries(node.disks.map((d) => [d, overlayPath(old[d]!, d)]));
  await c.setPending({ op: 'revert', node: node.name, previous: pick(old, node.disks), overlays });
  try {
    for (const d of node.disks) {
      const file = path.join(path.dirname(old[d]!), node.files![d]!);
      await createOverlayFile(overlays[d]!, file, await virtualSize(file, c.signal), c.signal, c.keys?.[d]);
    }
    await c.setActive(overlays);
  } catch (err) {
    for (const f of Object.values(overlays)) await rm(f, { force: true });
    await c.setPending(undefined);
    throw err;
  }
  await faultPoint('external-revert:after-spec');
  for (const d of node.disks) if (disposable(doc, d, old[d]!)) await rm(old[d]!, { force: true });
}

const pick = (m: Record<string, string>, keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, m[k]!]));
/** Merges the node's files away so that every other node and the active image keep their view. */
export async function deleteExternal(c: ExternalContext, doc: SnapshotCatalogue, node: SnapshotNode): Promise<void> {
  for (const d of node.disks) {
    const active = c.active[d]!;
    const dir = path.dirname(active);
    const file = path.join(dir, node.files![d]!);
    if (!(await exists(file))) continue; // merged already by a run that was interrupted
    const others = doc.nodes.filter((n) => n.name !== node.name && n.files?.[d]).map((n) => path.join(dir, n.files![d]!));
    const deps: string[] = [];
    for (const x of [active, ...others]) if ((await exists(x)) && (await backingOf(x, c.signal)) === file) deps.push(x);
    // A run killed halfway may have left a commit job in QEMU: the rerun finishes by commit, whatever the sizes are now.
    await mergeAway(c, d, file, deps, node.deleting === true);
  }
  await faultPoint('external-delete:after-merge');
}

/**
 * Merges `file` into its dependents, moving the smaller side: when it has one
 * dependent, the dependent's data goes down into `file` (commit) if that is
 * less than `file`'s own data, which would otherwise be copied up (stream,
 * rebase). Running: an active commit when the dependent is the active overlay
 * (QEMU pivots to `file`, which the spec then names); stopped: qemu-img commit.
 */
async function mergeAway(c: ExternalContext, disk: string, file: string, deps: string[], resumed = false): Promise<void> {
  const parent = await backingOf(file, c.signal);
  const commitDown = deps.length === 1 && (resumed || (await allocated(deps[0]!)) <= (await allocated(file)));
  if (c.inst) {
    const inst = c.inst;
    if (deps.length === 1 && deps[0] === c.active[disk] && inst.commitActive && (commitDown || samePath(await inst.activeFile(disk, c.signal), file))) {
      const pivoted = samePath(await inst.activeFile(disk, c.signal), file);
      c.log.info({ disk, file: path.basename(file), overlay: path.basename(c.active[disk]!), pivoted }, pivoted ? 'QEMU already writes the base: finishing a delete by commit' : 'deleting by active commit of the overlay into the base');
      if (!pivoted) await inst.commitActive({ disk, beforeComplete: () => faultPoint('external-delete:commit-ready') }, c.signal);
      await faultPoint('external-delete:after-commit');
      const overlay = c.active[disk]!;
      await c.setActive({ [disk]: file });
      await rm(overlay, { force: true });
      return;
    }
    const chain = await chainOnDisk(c.active[disk]!, c.signal);
    for (const x of deps) {
      const index = chain.indexOf(x);
      if (index >= 0) await inst.streamDisk({ disk, index, backingFile: parent ? path.basename(parent) : null }, c.signal);
      else await rebaseOnto(x, parent, c.signal, c.keys?.[disk]);
    }
    await rm(file, { force: true });
  } else if (commitDown) {
    await commitIntoBacking(deps[0]!, c.signal, c.keys?.[disk]);
    await rename(file, deps[0]!);
  } else {
    for (const x of deps) await rebaseOnto(x, parent, c.signal, c.keys?.[disk]);
    await rm(file, { force: true });
  }
}

/** Bytes the file takes on the host (its allocated clusters and metadata). */
const allocated = async (file: string): Promise<number> => (await stat(file)).blocks * 512;
const samePath = (a: string, b: string): boolean => path.resolve(a) === path.resolve(b);

/** An overlay we created that no node and no spec uses any more. */
function disposable(doc: SnapshotCatalogue, disk: string, file: string): boolean {
  return isOverlayOf(file, disk) && !doc.nodes.some((n) => n.files?.[disk] === path.basename(file));
}

/**
 * Finishes or undoes the external create or revert a killed daemon left,
 * from the intent written before its first change: an overlay the spec
 * never pointed at is removed; a spec pointing at an overlay QEMU never
 * switched to is pointed back; an overlay already in use keeps the data and
 * the previous image is merged into it (create) or dropped (revert, which
 * also moves `current`). Returns the catalogue as it now is.
 */
export async function sweepExternal(c: ExternalContext, doc: SnapshotCatalogue): Promise<SnapshotCatalogue> {
  const p = doc.pending;
  if (!p) return doc;
  let switched = true;
  for (const [d, overlay] of Object.entries(p.overlays)) {
    const previous = p.previous[d]!;
    if (c.active[d] !== overlay) {
      switched = false;
      await rm(overlay, { force: true });
    } else if (p.op === 'create' && c.inst && (await c.inst.activeFile(d, c.signal)) === previous) {
      switched = false;
      await c.setActive({ [d]: previous });
      await rm(overlay, { force: true });
    } else if (p.op === 'create') {
      await mergeAway(c, d, previous, [overlay]);
    } else if (disposable(doc, d, previous)) {
      await rm(previous, { force: true });
    }
  }
  c.log.warn({ op: p.op, node: p.node, finished: p.op === 'revert' && switched }, 'cleaned up after an external snapshot operation that did not finish');
  const next: SnapshotCatalogue = { ...doc, pending: undefined, ...(p.op === 'revert' && switched ? { current: p.node } : {}) };
  await c.setPending(undefined);
  return next;
}
