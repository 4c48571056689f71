/**
 * Backups of VMs (docs/snapshots-backups.md). Running VMs: blockdev-backup
 * of every disk at one instant; the first backup is full and starts a
 * persistent dirty bitmap, later ones copy only the clusters that bitmap
 * marks, into a qcow2 overlay backed by the previous backup. Stopped VMs:
 * a full qemu-img convert, and a fresh bitmap added to the image so the next
 * live backup can be incremental. A backup is full, and says why, whenever the
 * bitmap cannot be trusted. The record is written last: a backup that did
 * not finish leaves no record, and its files are swept by the next run.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { canBackup, type Backupable, type VmInstance } from '../drivers/index.js';
import { readSnapshotCatalogue, type VmService } from '../lifecycle/index.js';
import { fail, newId, timeoutSignal, type Logger } from '../shared/index.js';
import { convertImage, convertKeyed, createEncryptedImage, qcow2ChainDepthSync, resolveDiskPaths } from '../storage/index.js';
import type { VmRecord } from '../store/index.js';
import { createTarget, fileFacts, offlineBitmap, offlineInfo } from './images.js';
import { BITMAP_PREFIX, type BackupDiskFile, type BackupRecord } from './record.js';
import type { BackupTarget } from './target.js';

export interface BackupServiceOptions {
  vms: VmService;
  target: BackupTarget;
  /** Directory under which each VM has <id>/ (as VmService). */
  vmsDir: string;
  logger: Logger;
}

export interface CreateBackupRequest {
  full?: boolean;
  /** Bandwidth cap per disk in MiB/s (live backups). */
  bwlimitMiB?: number;
}

export interface BackupProgress { phase: 'preparing' | 'copying' | 'checksums' | 'recording'; doneBytes: number; totalBytes: number }

const LIVE = new Set(['running', 'paused']);
const OFFLINE = new Set(['created', 'stopped']);
const OP_MS = 6 * 3600_000;

export class BackupService {
  readonly log: Logger;

  constructor(readonly o: BackupServiceOptions) {
    this.log = o.logger.child({ component: 'backups' });
  }

  create(vm: string, req: CreateBackupRequest = {}, progress: (p: BackupProgress) => void = () => undefined): Promise<BackupRecord> {
    return this.o.vms.exclusive(vm, async (rec, inst) => {
      const started = Date.now();
      const phases = phaseTimer();
      progress({ phase: 'preparing', doneBytes: 0, totalBytes: 0 });
      const live = LIVE.has(rec.state);
      if (!live && !OFFLINE.has(rec.state)) fail('INVALID_TRANSITION', `VM ${vm} is ${rec.state}; back it up while it is running, paused, created or stopped`);
      const disks = backupDisks(rec);
      const t = this.o.target;
      const swept = await t.sweep(rec.id);
      if (swept.length > 0) this.log.warn({ vm, files: swept }, 'removed files of a backup that did not finish');
      const last = (await t.list(rec.id)).at(-1);
      const instance = live ? backupable(vm, inst) : undefined;
      const signal = timeoutSignal(OP_MS);
      const fullReason = await this.fullReason(rec, disks, last, instance, req, signal);
      const id = `${new Date().toISOString().replace(/[-:.]/g, '')}-${newId('b').slice(-4)}`;
      const bitmap = `${BITMAP_PREFIX}${id}`;
      const sources = resolveDiskPaths(rec.spec, this.dir(rec));
      // Encrypted disks: every backup file is LUKS under the disk's passphrase (kept as backup.<id>.<disk> too; docs/security.md).
      const keys = await this.o.vms.backupPassphrases(rec);
      const files = Object.fromEntries(disks.map((d) => [d, `${id}.${d}.qcow2`]));
      const paths: Record<string, string> = {};
      for (const d of disks) paths[d] = await t.filePath(rec.id, files[d]!);
      const place = await t.identity(rec.id);
      const stillThere = async () => {
        if ((await t.identity(rec.id)) !== place) fail('BACKUP_TARGET_GONE', `the backup target (${t.description}) disappeared while backing up VM ${vm} (removed or unmounted)`);
      };
      let total = 0;
      const sizes: Record<string, number> = {};
      phases.mark('prepare');
      try {
        if (instance) {
          for (const d of disks) {
            sizes[d] = (await offlineInfo(sources[d]!, signal)).virtualSize; // asked each time: the disk may have grown
            await createTarget(paths[d]!, sizes[d], fullReason ? undefined : last!.disks.find((x) => x.disk === d)!.file, signal, keys[d]);
          }
          phases.mark('targets');
          await instance.backupDisks({
            targets: paths, encrypted: Object.keys(keys), sync: fullReason ? 'full' : 'incremental', ...(fullReason ? {} : { fromBitmap: last!.bitmap! }), newBitmap: bitmap,
            ...(req.bwlimitMiB ? { speed: req.bwlimitMiB * 1024 * 1024 } : {}),
            onProgress: (done, all) => { total = all; progress({ phase: 'copying', doneBytes: done, totalBytes: all }); },
          }, signal);
        } else {
          for (const d of disks) {
            const pass = keys[d];
            if (pass === undefined) await convertImage(sources[d]!, paths[d]!, { format: 'qcow2', sourceFormat: 'qcow2', signal });
            else {
              await createEncryptedImage(paths[d]!, (await offlineInfo(sources[d]!, signal)).virtualSize, pass, { signal });
              await convertKeyed({ path: sources[d]!, format: 'qcow2', passphrase: pass, backingDepth: qcow2ChainDepthSync(sources[d]!) }, { path: paths[d]!, format: 'qcow2', passphrase: pass }, { signal });
            }
            for (const b of (await offlineInfo(sources[d]!, signal)).bitmaps) {
              if (b.name.startsWith(BITMAP_PREFIX)) await offlineBitmap(sources[d]!, '--remove', b.name, signal, pass);
            }
            await offlineBitmap(sources[d]!, '--add', bitmap, signal, pass);
          }
        }
        phases.mark('copy');
        await stillThere();
        progress({ phase: 'checksums', doneBytes: total, totalBytes: total });
        const out: BackupDiskFile[] = [];
        // a live target has the size it was created with: no qemu-img info of it
        for (const d of disks) out.push({ disk: d, file: files[d]!, virtualSize: sizes[d] ?? (await offlineInfo(paths[d]!, signal)).virtualSize, ...(await fileFacts(paths[d]!, signal)) });
        const record: BackupRecord = {
          version: 1, id, vm, vmId: rec.id, kind: fullReason ? 'full' : 'incremental', parent: fullReason ? null : last!.id, mode: live ? 'live' : 'offline',
          ...(fullReason && last ? { fullReason } : {}), bitmap, createdAt: new Date(started).toISOString(), durationMs: Date.now() - started, disks: out, spec: rec.spec,
        };
        phases.mark('checksums');
        progress({ phase: 'recording', doneBytes: total, totalBytes: total });
        await stillThere();
        await t.commit(record);
        phases.mark('record');
        if (instance) await this.dropOldBitmaps(instance, disks, bitmap);
        phases.mark('bitmaps');
        this.log.info({ vm, id, kind: record.kind, fullReason, ms: record.durationMs, phases: phases.ms }, 'backup created');
        this.o.vms.states.contentChanged(rec, 'backups', 'created', id);
        return record;
      } catch (err) {
        if (instance) for (const d of disks) await instance.removeBitmap(d, bitmap, timeoutSignal(10_000)).catch(() => undefined);
        for (const p of Object.values(paths)) await rm(p, { force: true });
        if ((await t.identity(rec.id)) !== place) fail('BACKUP_TARGET_GONE', `the backup target (${t.description}) disappeared while backing up VM ${vm} (removed or unmounted)`, { cause: err });
        if (isTargetFull(err)) fail('BACKUP_TARGET_FULL', `the backup target (${t.description}) is full: VM ${vm}'s backup did not fit`, { cause: err });
        throw err;
      }
    });
  }

  async list(vm: string): Promise<BackupRecord[]> {
    return this.o.target.list((await this.o.vms.get(vm)).id);
  }

  async get(vm: string, id: string): Promise<BackupRecord> {
    const r = (await this.list(vm)).find((x) => x.id === id);
    if (!r) fail('BACKUP_NOT_FOUND', `VM ${vm} has no backup ${id}`);
    return r;
  }

  /** The record and its ancestors, oldest first. */
  async chain(vm: string, id: string): Promise<BackupRecord[]> {
    const all = await this.list(vm);
    const out: BackupRecord[] = [];
    for (let cur: string | null = id; cur !== null;) {
      const r = all.find((x) => x.id === cur);
      if (!r) fail(out.length === 0 ? 'BACKUP_NOT_FOUND' : 'BACKUP_VERIFY_FAILED', out.length === 0 ? `VM ${vm} has no backup ${id}` : `backup ${out[0]!.id} needs ${cur}, which is gone`);
      out.unshift(r);
      cur = r.parent;
    }
    return out;
  }

  dir(rec: VmRecord): string {
    return path.join(this.o.vmsDir, path.basename(rec.id));
  }

  private async fullReason(rec: VmRecord, disks: string[], last: BackupRecord | undefined, inst: Backupable | undefined, req: CreateBackupRequest, signal: AbortSignal): Promise<string | undefined> {
    if (req.full) return 'full backup requested';
    if (!last) return 'first backup of this VM';
    if (!inst) return 'the VM is stopped: a full copy with qemu-img convert';
    if (!last.bitmap) return 'the previous backup left no dirty bitmap';
    if (disks.join(',') !== last.disks.map((d) => d.disk).join(',')) return 'the VM\'s disks changed since the previous backup';
    const snaps = await readSnapshotCatalogue(this.dir(rec));
    const reset = snaps.bitmapsResetAt;
    if (reset && reset > last.createdAt) return snaps.bitmapsResetReason ?? `a snapshot revert at ${reset} changed the disks after the previous backup`;
    const bitmaps = await inst.bitmaps(disks, signal);
    for (const d of disks) {
      const b = bitmaps[d]?.find((x) => x.name === last.bitmap);
      if (!b) return `dirty bitmap ${last.bitmap} is missing on disk ${d} (the VM was killed or crashed since, or its disk was replaced): its changes cannot be trusted`;
      if (b.inconsistent) return `dirty bitmap ${last.bitmap} on disk ${d} is marked inconsistent by QEMU`;
    }
    return undefined;
  }

  private async dropOldBitmaps(inst: Backupable, disks: string[], keep: string): Promise<void> {
    const all = await inst.bitmaps(disks, timeoutSignal(10_000));
    for (const d of disks) {
      for (const b of all[d] ?? []) if (b.name.startsWith(BITMAP_PREFIX) && b.name !== keep) await inst.removeBitmap(d, b.name, timeoutSignal(10_000)).catch(() => undefined);
    }
  }
}

/** Milliseconds per phase, for the log line of each backup (docs/data-paths.md is read off these). */
function phaseTimer(): { mark(name: string): void; ms: Record<string, number> } {
  let last = performance.now();
  const ms: Record<string, number> = {};
  return {
    ms,
    mark(name) {
      const now = performance.now();
      ms[name] = Math.round(now - last);
      last = now;
    },
  };
}

/** ENOSPC from Node, or QEMU's / qemu-img's "No space left on device" in a job or command error. */
function isTargetFull(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC' || /No space left on device/i.test(e.message)) return true;
  }
  return false;
}

function backupDisks(rec: VmRecord): string[] {
  const disks = rec.spec.disks.filter((d) => d.media === 'disk' && !d.readOnly);
  if (disks.length === 0) fail('INVALID_ARGUMENT', `VM ${rec.name} has no writable disk to back up`);
  const raw = disks.filter((d) => d.format !== 'qcow2');
  if (raw.length > 0) fail('FORMAT_UNSUPPORTED', `VM ${rec.name}: disk(s) ${raw.map((d) => d.name).join(', ')} are ${raw[0]!.format}; backups with dirty bitmaps need qcow2 disks`);
  return disks.map((d) => d.name);
}

function backupable(vm: string, inst: VmInstance | undefined): Backupable {
  if (!canBackup(inst)) fail('BACKUP_FAILED', `the driver of VM ${vm} cannot back up a running VM`);
  return inst;
}
