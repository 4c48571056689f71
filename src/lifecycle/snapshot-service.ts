/**
 * Snapshots of VMs as a tree (docs/snapshots-backups.md). Internal qcow2
 * snapshots: with RAM (snapshot-save/-load jobs) on running VMs, disk-only
 * on running VMs (blockdev-snapshot-internal-sync, guest filesystems frozen
 * when the agent answers) and on stopped VMs (qemu-img snapshot). Every
 * internal snapshot holds its own copy-on-write view, so deleting any node
 * never loses another node's data; the tree (parent, current) lives in the
 * VM's snapshots.json. Everything runs inside VmService.exclusive().
 */
import { canSnapshot, canSnapshotExternal, type Snapshottable, type VmInstance } from '../drivers/index.js';
import { fail, timeoutSignal, validateName, type Logger } from '../shared/index.js';
import type { DiskSpec } from '../spec/index.js';
import { resolveDiskPaths } from '../storage/index.js';
import type { VmRecord } from '../store/index.js';
import {
  MAX_SNAPSHOT_DEPTH, depthOf, findNode, readCatalogue, typeOf, withoutNode, writeCatalogue,
  type Consistency, type SnapshotCatalogue, type SnapshotNode, type SnapshotType,
} from './snapshot-catalogue.js';
import { createExternal, deleteExternal, revertExternal, sweepExternal, type ExternalContext } from './snapshot-external.js';
import { freezeOutcome, type FreezeOutcome } from './snapshot-consistency.js';
import { fileBytes } from './snapshot-sizes.js';
import { imageSnapshots, offlineSnapshot, type ImageKeys } from './snapshot-offline.js';
import type { VmService } from './vm-service.js';
import { vmDir } from './vm-paths.js';
import { encryptedDisks, refuseEncrypted } from './disk-keys.js';

export interface SnapshotServiceOptions {
  vms: VmService;
  vmsDir: string;
  logger: Logger;
  /** Default 32. */
  maxDepth?: number;
}

export interface CreateSnapshotRequest {
  name: string;
  description?: string;
  /** Include RAM (default: true when the VM runs and the snapshot is internal). */
  ram?: boolean;
  /** internal (default) or external (disk-only overlays). */
  type?: SnapshotType;
}

export interface SnapshotView extends SnapshotNode {
  depth: number;
  current: boolean;
  /** Bytes of saved RAM/device state (0 for disk-only snapshots). */
  vmStateBytes: number;
  type: SnapshotType;
  /** External nodes: bytes of the node's files (what it holds beyond its parent). */
  fileBytes: number;
}

export interface SnapshotList { vm: string; current: string | null; snapshots: SnapshotView[] }
export interface RevertResult { vm: string; snapshot: string; ram: boolean; restarted: boolean; bitmapsReset: string[]; state: string }

const LIVE = new Set(['running', 'paused']);
const OFFLINE = new Set(['created', 'stopped']);
const OP_MS = 15 * 60_000;

export class SnapshotService {
  private readonly log: Logger;
  private readonly maxDepth: number;

  constructor(private readonly o: SnapshotServiceOptions) {
    this.log = o.logger.child({ component: 'snapshots' });
    this.maxDepth = o.maxDepth ?? MAX_SNAPSHOT_DEPTH;
  }

  create(vm: string, req: CreateSnapshotRequest): Promise<SnapshotView> {
    validateName(req.name, 'snapshot name');
    return this.o.vms.exclusive(vm, async (rec, inst) => {
      const dir = vmDir(this.o.vmsDir, rec.id);
      let doc = await readCatalogue(dir);
      if (doc.nodes.some((n) => n.name === req.name)) fail('SNAPSHOT_EXISTS', `VM ${vm} already has a snapshot named ${req.name}`);
      const disks = snapshotDisks(rec);
      const live = this.mode(rec);
      const type = req.type ?? 'internal';
      checkMix(vm, doc, type);
      if (type === 'external' && req.ram) fail('SNAPSHOT_UNSUPPORTED', 'an external snapshot holds disks only; leave out ram, or take an internal snapshot');
      const encrypted = encryptedDisks(rec.spec).length > 0;
      const ram = type === 'internal' && (req.ram ?? (live && !encrypted)); // encrypted: disk-only unless asked
      // QEMU 7.2 aborts (qcow2_co_encdec: assertion) writing guest RAM into an encrypted qcow2: refused, not crashed.
      if (ram) refuseEncrypted(rec, 'a snapshot with RAM (QEMU 7.2 aborts writing guest RAM into an encrypted qcow2; take it without ram)');
      if (ram && !live) fail('SNAPSHOT_UNSUPPORTED', `VM ${vm} is ${rec.state}; a snapshot with RAM needs a running or paused VM (omit --ram for a disk snapshot)`);
      const depth = depthOf(doc, doc.current) + 1;
      if (depth > this.maxDepth) fail('SNAPSHOT_DEPTH_EXCEEDED', `snapshot ${req.name} would be ${depth} deep under ${doc.current}; the limit is ${this.maxDepth}`);
      const images = imagesOf(rec, dir, disks);
      const signal = timeoutSignal(OP_MS);
      const ext = type === 'external' || doc.pending ? await this.external(rec, dir, live ? inst : undefined, signal) : undefined;
      if (ext) doc = await sweepExternal(ext, doc);
      let consistency: Consistency = 'offline';
      let freeze: FreezeOutcome | undefined;
      let files: Record<string, string> | undefined;
      const instance = live ? snapshottable(vm, inst) : undefined;
      if (type === 'external') {
        files = await createExternal(ext!, req.name, disks, async (f) => {
          freeze = await whileFrozen(instance!, signal, f);
        });
      } else if (instance && ram) {
        await this.removeOrphanTag(req.name, images, inst, disks, signal);
        await instance.saveSnapshot(req.name, disks, signal);
        consistency = 'full-state';
      } else if (instance) {
        await this.removeOrphanTag(req.name, images, inst, disks, signal);
        freeze = await whileFrozen(instance, signal, () => instance.diskSnapshot(req.name, disks, signal));
      } else {
        const keys = await this.o.vms.imagePassphrases(rec);
        await this.removeOrphanTag(req.name, images, undefined, disks, signal, keys);
        await offlineSnapshot('-c', req.name, images, signal, keys);
      }
      if (freeze) consistency = freeze.consistency;
      const node: SnapshotNode = {
        name: req.name, description: req.description ?? '', parent: doc.current, kind: ram ? 'ram' : 'disk', consistency,
        ...(freeze ? { frozenFilesystems: freeze.frozenFilesystems, ...(freeze.freezeNote ? { freezeNote: freeze.freezeNote } : {}) } : {}),
        createdAt: new Date().toISOString(), disks, vmState: rec.state, type, ...(files ? { files } : {}),
      };
      // Offline, the image holding the dirty bitmaps became the snapshot file: the next backup is full.
      const reset = files && !live ? { bitmapsResetAt: node.createdAt, bitmapsResetReason: `an external snapshot of the stopped VM at ${node.createdAt} moved the disks' dirty bitmaps into ${node.name}` } : {};
      try {
        await writeCatalogue(dir, { ...doc, ...reset, pending: undefined, current: node.name, nodes: [...doc.nodes, node] });
      } catch (err) {
        // An external node without a row is merged back by the next sweep.
        if (type === 'internal') await this.dropTag(node.name, images, instance, disks).catch(() => undefined);
        throw err;
      }
      this.log.info({ vm, snapshot: node.name, kind: node.kind, type, consistency, frozenFilesystems: node.frozenFilesystems }, 'snapshot created');
      this.o.vms.states.contentChanged(rec, 'snapshots', 'created', node.name);
      return { ...node, type, depth, current: true, vmStateBytes: type === 'internal' ? (await this.sizes(images[0]!))(node.name) : 0, fileBytes: await fileBytes(dir, rec, node) };
    });
  }

  async list(vm: string): Promise<SnapshotList> {
    const rec = await this.o.vms.get(vm);
    const dir = vmDir(this.o.vmsDir, rec.id);
    const doc = await readCatalogue(dir);
    const first = doc.nodes[0] ? imagesOf(rec, dir, doc.nodes[0].disks.filter((d) => rec.spec.disks.some((x) => x.name === d)))[0] : undefined;
    const size = first ? await this.sizes(first) : () => 0;
    const views: SnapshotView[] = [];
    for (const n of doc.nodes) {
      views.push({ ...n, type: typeOf(n), depth: depthOf(doc, n.name), current: n.name === doc.current, vmStateBytes: size(n.name), fileBytes: await fileBytes(dir, rec, n) });
    }
    return { vm, current: doc.current, snapshots: views };
  }

  /** Reverts to `name`. A disk-only snapshot of a running VM needs a restart (killed, reverted, started). */
  async revert(vm: string, name: string): Promise<RevertResult> {
    validateName(name, 'snapshot name');
    const before = await this.o.vms.get(vm);
    const node = findNode(await readCatalogue(vmDir(this.o.vmsDir, before.id)), vm, name);
    if (node.deleting) fail('SNAPSHOT_UNSUPPORTED', `a delete of snapshot ${name} did not finish; run \`polyvisor snapshot rm ${vm} ${name}\` again`);
    const restart = node.kind === 'disk' && LIVE.has(before.state);
    if (restart) await this.o.vms.kill(vm);
    const r = await this.o.vms.exclusive(vm, async (rec, inst): Promise<RevertResult> => {
      const dir = vmDir(this.o.vmsDir, rec.id);
      let doc = await readCatalogue(dir);
      const n = findNode(doc, vm, name);
      const live = this.mode(rec);
      const images = imagesOf(rec, dir, n.disks);
      const signal = timeoutSignal(OP_MS);
      let bitmapsReset: string[] = [];
      if (live && n.kind === 'ram') bitmapsReset = (await snapshottable(vm, inst).loadSnapshot(name, n.disks, signal)).bitmapsReset;
      else if (live) fail('SNAPSHOT_UNSUPPORTED', `VM ${vm} was started again while reverting; stop it and retry`);
      else if (typeOf(n) === 'external') {
        const ext = await this.external(rec, dir, undefined, signal);
        doc = await sweepExternal(ext, doc);
        await revertExternal(ext, doc, n);
      } else await offlineSnapshot('-a', name, images, signal, await this.o.vms.imagePassphrases(rec));
      // Disk contents jumped back: whatever dirty bitmaps say no longer describes them, so the next backup is full.
      await writeCatalogue(dir, { ...doc, current: name, bitmapsResetAt: new Date().toISOString(), bitmapsResetReason: undefined, pending: undefined });
      this.log.info({ vm, snapshot: name, live, bitmapsReset }, 'snapshot reverted');
      this.o.vms.states.contentChanged(rec, 'snapshots', 'reverted', name);
      return { vm, snapshot: name, ram: live && n.kind === 'ram', restarted: restart, bitmapsReset, state: rec.state };
    }).catch(async (err: unknown) => {
      if (restart) await this.o.vms.start(vm).catch(() => undefined); // the revert failed: run the VM as it was
      throw err;
    });
    if (!restart) return r;
    const started = await this.o.vms.start(vm);
    return { ...r, state: started.state };
  }

  /** Deletes node `name`; its children move up to its parent, and every other node stays revertable. */
  delete(vm: string, name: string): Promise<void> {
    validateName(name, 'snapshot name');
    return this.o.vms.exclusive(vm, async (rec, inst) => {
      const dir = vmDir(this.o.vmsDir, rec.id);
      const doc = await readCatalogue(dir);
      const n = findNode(doc, vm, name);
      const live = this.mode(rec);
      if (typeOf(n) === 'external') {
        const ext = await this.external(rec, dir, live ? inst : undefined, timeoutSignal(OP_MS));
        const swept = await sweepExternal(ext, doc);
        const marked = { ...swept, nodes: swept.nodes.map((x) => (x.name === name ? { ...x, deleting: true } : x)) };
        await writeCatalogue(dir, marked);
        await deleteExternal(ext, marked, n);
        const at = new Date().toISOString();
        // Offline, qemu-img commit may have replaced the active image (and its dirty bitmaps): the next backup is full.
        const reset = live ? {} : { bitmapsResetAt: at, bitmapsResetReason: `deleting external snapshot ${name} of the stopped VM at ${at} rewrote its disk images` };
        await writeCatalogue(dir, { ...withoutNode(marked, name), ...reset });
        this.log.info({ vm, snapshot: name, type: 'external' }, 'snapshot deleted');
        this.o.vms.states.contentChanged(rec, 'snapshots', 'deleted', name);
        return;
      }
      await this.dropTag(name, imagesOf(rec, dir, n.disks), live ? snapshottable(vm, inst) : undefined, n.disks, live ? undefined : await this.o.vms.imagePassphrases(rec));
      await writeCatalogue(dir, withoutNode(doc, name));
      this.log.info({ vm, snapshot: name }, 'snapshot deleted');
      this.o.vms.states.contentChanged(rec, 'snapshots', 'deleted', name);
    });
  }

  private async external(rec: VmRecord, dir: string, inst: VmInstance | undefined, signal: AbortSignal): Promise<ExternalContext> {
    if (inst && !canSnapshotExternal(inst)) fail('SNAPSHOT_UNSUPPORTED', `the driver of VM ${rec.name} cannot take external snapshots of a running VM`);
    const paths = resolveDiskPaths(rec.spec, dir);
    const active = Object.fromEntries(rec.spec.disks.filter((d) => d.media === 'disk' && !d.readOnly && d.format === 'qcow2').map((d) => [d.name, paths[d.name]!]));
    // Encrypted disks: one passphrase per disk opens every image of its chain (the overlays are made under it too).
    const byImage = await this.o.vms.imagePassphrases(rec);
    const keys = Object.fromEntries(encryptedDisks(rec.spec).filter((d) => byImage.has(paths[d.name]!)).map((d) => [d.name, byImage.get(paths[d.name]!)!]));
    let cur = rec;
    const ctx: ExternalContext = {
      active, inst, signal, log: this.log, keys,
      setActive: async (p) => {
        const disks = cur.spec.disks.map((d): DiskSpec => {
          const to = p[d.name];
          if (to === undefined) return d;
          const { size: _size, ...rest } = d;
          return { ...rest, path: to };
        });
        cur = await this.o.vms.saveSpec(cur, { ...cur.spec, disks });
        ctx.active = { ...ctx.active, ...p };
      },
      setPending: async (pending) => writeCatalogue(dir, { ...(await readCatalogue(dir)), pending }),
    };
    return ctx;
  }

  /**
   * After a daemon start: finishes what killed external-snapshot commands
   * left, VM by VM on each VM's queue (the sweep, then deletes marked
   * unfinished). Returns the VMs it looked at.
   */
  async recover(): Promise<string[]> {
    const seen: string[] = [];
    for (const rec of await this.o.vms.list()) {
      const dir = vmDir(this.o.vmsDir, rec.id);
      const doc = await readCatalogue(dir).catch(() => undefined);
      if (!doc) continue;
      if (!doc.pending && !doc.nodes.some((n) => n.deleting)) continue;
      seen.push(rec.name);
      try {
        await this.o.vms.exclusive(rec.name, async (r, inst) => {
          if (!LIVE.has(r.state) && !OFFLINE.has(r.state)) return;
          await sweepExternal(await this.external(r, dir, LIVE.has(r.state) ? inst : undefined, timeoutSignal(OP_MS)), await readCatalogue(dir));
        });
        for (const n of (await readCatalogue(dir)).nodes.filter((x) => x.deleting)) await this.delete(rec.name, n.name);
      } catch (err) {
        this.log.error({ err, vm: rec.name }, 'could not finish snapshot work left by a daemon that stopped');
      }
    }
    return seen;
  }

  /** true: live (running/paused); false: offline; other states are refused. */
  private mode(rec: VmRecord): boolean {
    if (LIVE.has(rec.state)) return true;
    if (OFFLINE.has(rec.state)) return false;
    fail('INVALID_TRANSITION', `VM ${rec.name} is ${rec.state}; snapshots work while it is running, paused, created or stopped`);
  }

  /** Deletes `tag` from the images that hold it (a crash may have left it in some only). */
  private async dropTag(tag: string, images: string[], inst: ReturnType<typeof snapshottable> | undefined, disks: string[], keys?: ImageKeys): Promise<void> {
    const signal = timeoutSignal(OP_MS);
    if (inst) return inst.deleteSnapshot(tag, disks, signal);
    const holding: string[] = [];
    for (const img of images) if ((await imageSnapshots(img, signal)).has(tag)) holding.push(img);
    await offlineSnapshot('-d', tag, holding, signal, keys);
  }

  /** A tag with no catalogue row is left over from a create that did not finish: remove it. */
  private async removeOrphanTag(tag: string, images: string[], inst: VmInstance | undefined, disks: string[], signal: AbortSignal, keys?: ImageKeys): Promise<void> {
    let found = false;
    for (const img of images) if ((await imageSnapshots(img, signal)).has(tag)) found = true;
    if (!found) return;
    this.log.warn({ tag }, 'removing a snapshot left over from an unfinished create');
    await this.dropTag(tag, images, inst ? snapshottable('', inst) : undefined, disks, keys);
  }

  private async sizes(image: string): Promise<(tag: string) => number> {
    const m = await imageSnapshots(image, timeoutSignal(30_000)).catch(() => new Map<string, { vmStateBytes: number }>());
    return (tag) => m.get(tag)?.vmStateBytes ?? 0;
  }
}

/** Writable hard disks; every one must be qcow2. */
function snapshotDisks(rec: VmRecord): string[] {
  const disks = rec.spec.disks.filter((d: DiskSpec) => d.media === 'disk' && !d.readOnly);
  if (disks.length === 0) fail('SNAPSHOT_UNSUPPORTED', `VM ${rec.name} has no writable disk to snapshot`);
  const other = disks.filter((d) => d.format !== 'qcow2');
  if (other.length > 0) {
    fail('SNAPSHOT_UNSUPPORTED', `VM ${rec.name}: disk(s) ${other.map((d) => `${d.name} (${d.format})`).join(', ')} are not qcow2; internal snapshots need qcow2`, {
      hint: 'Convert the disk to qcow2 (stop the VM, `qemu-img convert -O qcow2`, attach the copy), or detach it before snapshotting.',
    });
  }
  return disks.map((d) => d.name);
}

/** Internal and external nodes do not share a tree (docs/snapshots-backups.md, "Mixing"). */
function checkMix(vm: string, doc: SnapshotCatalogue, type: SnapshotType): void {
  const other = doc.nodes.filter((n) => typeOf(n) !== type).map((n) => n.name);
  if (other.length === 0) return;
  fail('SNAPSHOT_UNSUPPORTED', `VM ${vm} has ${type === 'external' ? 'internal' : 'external'} snapshots (${other.join(', ')}); one VM's tree holds one type`, {
    hint: `Delete them first (\`polyvisor snapshot rm ${vm} NAME\`), or take ${type === 'external' ? 'an internal' : 'an external'} snapshot instead.`,
  });
}

function imagesOf(rec: VmRecord, dir: string, disks: readonly string[]): string[] {
  const paths = resolveDiskPaths(rec.spec, dir);
  return disks.map((d) => {
    const p = paths[d];
    if (p === undefined) fail('SNAPSHOT_UNSUPPORTED', `the snapshot covers disk ${d}, which VM ${rec.name} no longer has; attach it again first`);
    return p;
  });
}

function snapshottable(vm: string, inst: VmInstance | undefined) {
  if (!canSnapshot(inst)) fail('SNAPSHOT_UNSUPPORTED', `the driver of VM ${vm} cannot snapshot a running VM`);
  return inst;
}

/** Runs `f` with the guest's filesystems frozen (when the agent answers), thaws, and says what the freeze achieved. */
async function whileFrozen(instance: Snapshottable, signal: AbortSignal, f: () => Promise<void>): Promise<FreezeOutcome> {
  const frozen = await instance.freezeFilesystems(signal);
  try {
    await f();
  } finally {
    // An agent that answered is thawed even after a failed or empty freeze: qemu-ga stays in its frozen state until told.
    if (frozen.answered) await instance.thawFilesystems(timeoutSignal(30_000));
  }
  return freezeOutcome(frozen);
}
