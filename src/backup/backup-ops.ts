/**
 * What is done with backups once taken: verify (checksums and qemu-img check
 * of the whole chain), restore (flatten the chain with qemu-img convert into
 * the same, stopped VM after a confirmation, or into a new VM), and prune by
 * a retention policy that never breaks a chain still needed.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fail, timeoutSignal, validateName } from '../shared/index.js';
import type { DiskSpec, VmSpec } from '../spec/index.js';
import { checkImage, convertImage, convertKeyed, createEncryptedImage, newDiskPassphrase, qcow2ChainDepthSync, resolveDiskPaths } from '../storage/index.js';
import { backupKeyName, readSnapshotCatalogue, writeSnapshotCatalogue } from '../lifecycle/index.js';
import type { BackupService } from './backup-service.js';
import { bootTest, type BootTestResult } from './boot-test.js';
import { checkKeyed, fileFacts } from './images.js';
import type { BackupRecord } from './record.js';
import { isEmptyPolicy, selectKept, type RetentionPolicy } from './retention.js';

const OP_MS = 6 * 3600_000;

export interface VerifyResult {
  vm: string; id: string; ok: boolean; checked: Array<{ id: string; disk: string; sha256: boolean; clean: boolean }>; problems: string[];
  /** With `boot`: the boot test's outcome (run only when the files verify). */
  boot?: BootTestResult;
}
export interface VerifyOptions { boot?: { timeoutMs: number } }
export interface RestoreRequest { toVm?: string; disks?: string[]; confirm?: boolean }
export interface RestoreResult { vm: string; id: string; disks: string[]; createdVm: boolean }
export interface PruneResult { vm: string; kept: Array<{ id: string; why: string[] }>; removed: string[]; dryRun: boolean }

export async function verifyBackup(s: BackupService, vm: string, id: string, o: VerifyOptions = {}): Promise<VerifyResult> {
  const chain = await s.chain(vm, id);
  const signal = timeoutSignal(OP_MS);
  const out: VerifyResult = { vm, id, ok: true, checked: [], problems: [] };
  for (const r of chain) {
    for (const f of r.disks) {
      const p = await s.o.target.filePath(r.vmId, f.file);
      const facts = await fileFacts(p, signal).catch(() => undefined);
      const sha = facts?.sha256 === f.sha256;
      const encrypted = r.spec.disks.some((x) => x.name === f.disk && x.encrypt === true);
      const check = !facts ? undefined : encrypted
        ? await checkKeyed(p, await s.o.vms.backupPassphrase({ id: r.vmId, name: vm }, f.disk), signal).catch(() => undefined)
        : await checkImage(p, { format: 'qcow2', signal }).catch(() => undefined);
      const clean = check?.clean ?? false;
      if (!facts) out.problems.push(`${r.id}/${f.disk}: file ${f.file} is missing`);
      else if (!sha) out.problems.push(`${r.id}/${f.disk}: sha256 differs from the catalogue`);
      if (facts && !clean) out.problems.push(`${r.id}/${f.disk}: qemu-img check found ${check ? `${check.corruptions} corruptions, ${check.checkErrors} errors` : 'an unreadable image'}`);
      out.checked.push({ id: r.id, disk: f.disk, sha256: sha, clean });
    }
  }
  out.ok = out.problems.length === 0;
  if (o.boot && out.ok) {
    out.boot = await bootTest(s, vm, id, o.boot);
    if (!out.boot.booted) out.problems.push(`boot test: ${out.boot.reason ?? 'did not boot'}`);
    out.ok = out.boot.booted;
  }
  return out;
}

export async function restoreBackup(s: BackupService, vm: string, id: string, req: RestoreRequest): Promise<RestoreResult> {
  const rec0 = await s.o.vms.get(vm);
  const record = await s.get(vm, id);
  const disks = req.disks ?? record.disks.map((d) => d.disk);
  for (const d of disks) if (!record.disks.some((x) => x.disk === d)) fail('DISK_NOT_FOUND', `backup ${id} has no disk ${d}`);
  const verified = await verifyBackup(s, vm, id);
  if (!verified.ok) fail('BACKUP_VERIFY_FAILED', `backup ${id} does not verify: ${verified.problems.join('; ')}`);
  const top = async (d: string) => s.o.target.filePath(rec0.id, record.disks.find((x) => x.disk === d)!.file);
  const signal = timeoutSignal(OP_MS);
  const encrypted = new Set(record.spec.disks.filter((d) => d.encrypt === true).map((d) => d.name));
  /** Flattens the backup chain of disk `d` into `dest`; an encrypted disk's under `pass` (the chain read with the backup passphrase). */
  const restoreDisk = async (d: string, dest: string, overwrite: boolean, pass?: string): Promise<void> => {
    const src = await top(d);
    if (!encrypted.has(d)) return convertImage(src, dest, { format: 'qcow2', sourceFormat: 'qcow2', overwrite, signal });
    const size = record.disks.find((x) => x.disk === d)!.virtualSize;
    await createEncryptedImage(dest, size, pass!, { overwrite, signal });
    await convertKeyed({ path: src, format: 'qcow2', passphrase: await s.o.vms.backupPassphrase(rec0, d), backingDepth: qcow2ChainDepthSync(src) }, { path: dest, format: 'qcow2', passphrase: pass }, { signal });
  };
  if (req.toVm !== undefined) {
    validateName(req.toVm, 'VM name');
    const dir = path.join(path.dirname(s.o.vmsDir), 'restored', req.toVm);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    const spec = specForRestore(record.spec, req.toVm, disks, dir);
    for (const d of spec.disks) {
      if (!disks.includes(d.name)) continue;
      // an encrypted disk gets a new passphrase of its own (as a clone does), handed to the create as an import key
      const pass = encrypted.has(d.name) ? newDiskPassphrase() : undefined;
      await restoreDisk(d.name, d.path!, false, pass);
      if (pass !== undefined) await s.o.vms.setImportKey(req.toVm, d.name, pass);
    }
    await s.o.vms.create(spec);
    s.log.info({ vm, id, toVm: req.toVm }, 'backup restored to a new VM');
    return { vm: req.toVm, id, disks, createdVm: true };
  }
  if (!req.confirm) fail('CONFIRMATION_REQUIRED', `restoring ${id} replaces the current contents of ${disks.join(', ')} of VM ${vm} (and drops its snapshots)`);
  return s.o.vms.exclusive(vm, async (rec) => {
    if (rec.state !== 'stopped' && rec.state !== 'created') fail('INVALID_TRANSITION', `VM ${vm} is ${rec.state}; stop it before restoring over its disks`);
    const paths = resolveDiskPaths(rec.spec, s.dir(rec));
    const snaps = await readSnapshotCatalogue(s.dir(rec));
    for (const d of disks) {
      const dest = paths[d];
      if (dest === undefined) fail('DISK_NOT_FOUND', `VM ${vm} has no disk ${d} any more; restore to a new VM instead`);
      const pass = encrypted.has(d) ? (await s.o.vms.imagePassphrases(rec)).get(dest) : undefined;
      if (encrypted.has(d) && pass === undefined) fail('ENCRYPTED_DISK_PLAINTEXT', `disk ${d} of backup ${id} is encrypted and disk ${d} of VM ${vm} is not; restore to a new VM instead`);
      await restoreDisk(d, dest, true, pass);
    }
    // The restored images stand alone: external snapshot files below the old ones go with the tree.
    for (const n of snaps.nodes) {
      for (const d of disks) {
        const f = n.files?.[d];
        if (f && paths[d] && f !== path.basename(paths[d])) await rm(path.join(path.dirname(paths[d]), path.basename(f)), { force: true });
      }
    }
    await writeSnapshotCatalogue(s.dir(rec), { version: 1, current: null, nodes: [], bitmapsResetAt: new Date().toISOString() });
    s.log.info({ vm, id, disks }, 'backup restored over the VM\'s disks');
    return { vm, id, disks, createdVm: false };
  });
}

/** The disks of `records` backed up encrypted (each under backup.<vm-id>.<disk>). Pure. */
export function encryptedBackupDisks(records: readonly Pick<BackupRecord, 'spec' | 'disks'>[]): Set<string> {
  const out = new Set<string>();
  for (const r of records) for (const f of r.disks) if (r.spec.disks.some((d) => d.name === f.disk && d.encrypt === true)) out.add(f.disk);
  return out;
}

function specForRestore(spec: VmSpec, name: string, disks: string[], dir: string): VmSpec {
  return {
    ...spec, name,
    disks: spec.disks.filter((d) => d.media !== 'disk' || d.readOnly || disks.includes(d.name)).map((d) => {
      if (!disks.includes(d.name)) return d;
      const { size: _size, ...rest } = d;
      return { ...rest, format: 'qcow2', path: path.join(dir, `${d.name}.qcow2`) } satisfies DiskSpec;
    }),
  };
}

export async function pruneBackups(s: BackupService, vm: string, policy: RetentionPolicy, dryRun: boolean): Promise<PruneResult> {
  if (isEmptyPolicy(policy)) fail('INVALID_ARGUMENT', 'give at least one of keep-last, keep-hourly, keep-daily, keep-weekly, keep-monthly, keep-yearly');
  return s.o.vms.exclusive(vm, async (rec) => {
    const all = await s.o.target.list(rec.id);
    const kept = selectKept(all, policy);
    const gone: BackupRecord[] = all.filter((r) => !kept.has(r.id)).reverse(); // newest first: children before their parents
    if (!dryRun && gone.length > 0) {
      for (const r of gone) await s.o.target.remove(r);
      // An encrypted disk's backup key goes with its last backup (the next backup stores it again).
      const unused = [...encryptedBackupDisks(gone)].filter((d) => !encryptedBackupDisks(all.filter((r) => kept.has(r.id))).has(d));
      await s.o.vms.forgetDiskKeys(unused.map((d) => backupKeyName(rec.id, d)));
      if (unused.length) s.log.info({ vm, disks: unused }, 'backup keys removed with the last backups that needed them');
      s.o.vms.states.contentChanged(rec, 'backups', 'pruned');
    }
    return { vm, kept: all.filter((r) => kept.has(r.id)).map((r) => ({ id: r.id, why: kept.get(r.id)! })), removed: gone.map((r) => r.id), dryRun };
  });
}
