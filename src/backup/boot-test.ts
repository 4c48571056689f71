/**
 * Verify's boot test: the backup (its whole chain, flattened) is restored
 * into a scratch VM — a temporary name `verify-…`, its disks in a directory
 * of its own, no network, no display — built from the spec recorded with the
 * backup, so it boots the way the VM booted then (direct kernel or disk).
 * It is started, the serial log is watched for the guest's readiness line,
 * and the scratch VM and its files are removed whatever happened.
 * An encrypted disk is restored encrypted (never in clear) under a new
 * passphrase of the scratch VM's own, handed to its create as an import key
 * (as a restore to a new VM does); removing the scratch VM removes it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { importKeyName } from '../lifecycle/index.js';
import { newId, sleep, timeoutSignal } from '../shared/index.js';
import type { DiskSpec, VmSpec } from '../spec/index.js';
import { convertImage, convertKeyed, createEncryptedImage, newDiskPassphrase, qcow2ChainDepthSync } from '../storage/index.js';
import type { BackupService } from './backup-service.js';

export const READY_LINE = 'POLYVISOR-GUEST-READY';

export interface BootTestOptions { timeoutMs: number; readyLine?: string }
export interface BootTestResult { booted: boolean; ms: number; scratchVm: string; reason?: string }

export async function bootTest(s: BackupService, vm: string, id: string, o: BootTestOptions): Promise<BootTestResult> {
  const record = await s.get(vm, id);
  const encrypted = new Set(record.spec.disks.filter((d) => d.encrypt === true).map((d) => d.name));
  const source = await s.o.vms.get(vm);
  const scratch = `verify-${newId('v').slice(-8)}`;
  const dir = await mkdtemp(path.join(path.dirname(s.o.vmsDir), 'verify-'));
  const line = o.readyLine ?? READY_LINE;
  const t0 = Date.now();
  let created = false;
  const importKeys: string[] = [];
  try {
    const signal = timeoutSignal(o.timeoutMs + 30 * 60_000);
    const restored = new Map<string, string>();
    for (const f of record.disks) {
      const to = path.join(dir, `${f.disk}.qcow2`);
      const src = await s.o.target.filePath(source.id, f.file);
      if (encrypted.has(f.disk)) {
        const pass = newDiskPassphrase();
        await createEncryptedImage(to, f.virtualSize, pass, { signal });
        await convertKeyed({ path: src, format: 'qcow2', passphrase: await s.o.vms.backupPassphrase(source, f.disk), backingDepth: qcow2ChainDepthSync(src) }, { path: to, format: 'qcow2', passphrase: pass }, { signal });
        importKeys.push(importKeyName(scratch, f.disk));
        await s.o.vms.setImportKey(scratch, f.disk, pass);
      } else {
        await convertImage(src, to, { format: 'qcow2', sourceFormat: 'qcow2', signal });
      }
      restored.set(f.disk, to);
    }
    await s.o.vms.create(scratchSpec(record.spec, scratch, restored));
    created = true;
    const started = Date.now();
    const rec = await s.o.vms.start(scratch);
    const log = s.o.vms.files(rec).serialLog;
    for (;;) {
      const text = await readFile(log, 'utf8').catch(() => '');
      if (text.split(/\r?\n/).some((l) => l.trim() === line)) return { booted: true, ms: Date.now() - started, scratchVm: scratch };
      if (Date.now() - started > o.timeoutMs) return { booted: false, ms: Date.now() - started, scratchVm: scratch, reason: `no "${line}" on the serial console within ${Math.round(o.timeoutMs / 1000)} s` };
      const state = (await s.o.vms.get(scratch)).state;
      if (state !== 'running' && state !== 'starting') return { booted: false, ms: Date.now() - started, scratchVm: scratch, reason: `the scratch VM is ${state}` };
      await sleep(200);
    }
  } catch (err) {
    return { booted: false, ms: Date.now() - t0, scratchVm: scratch, reason: (err as Error).message };
  } finally {
    if (created) {
      await s.o.vms.kill(scratch).catch(() => undefined);
      await s.o.vms.remove(scratch, { force: true }).catch((err: unknown) => s.log.error({ err, scratch }, 'could not remove the boot-test VM'));
    }
    // A create that failed before it adopted them leaves the import keys: none stays.
    await s.o.vms.forgetDiskKeys(importKeys).catch((err: unknown) => s.log.error({ err, scratch }, 'could not remove the boot-test VM\'s passphrases'));
    await rm(dir, { recursive: true, force: true });
  }
}

/** The recorded spec with the restored disks, no network, no display, the serial console on. */
function scratchSpec(spec: VmSpec, name: string, restored: Map<string, string>): VmSpec {
  const disks = spec.disks.filter((d) => d.media !== 'disk' || d.readOnly || restored.has(d.name)).map((d): DiskSpec => {
    const to = restored.get(d.name);
    if (to === undefined) return d;
    const { size: _size, ...rest } = d;
    return { ...rest, format: 'qcow2', path: to };
  });
  return { ...spec, name, disks, networks: [], display: { vnc: false }, serial: { enabled: true }, labels: {}, description: `boot test of a backup of ${spec.name}` };
}
