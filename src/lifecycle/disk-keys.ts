/**
 * Passphrases of encrypted disks (spec `disk.encrypt`, docs/security.md
 * "Encrypted disks"). Each lives in the secrets store under a name tied to
 * the VM's id and the disk; QEMU gets it only as a `-object secret,file=…`
 * file written 0600 into the VM's directory right before QEMU starts (so a
 * VM running as its own user owns it, with the rest of its directory) and
 * removed as soon as QEMU has started or failed to. Values never reach argv,
 * logs, errors or API answers.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { fail, isPolyvisorError, isValidName, safeJoin, validateName } from '../shared/index.js';
import type { DiskSpec, VmSpec } from '../spec/index.js';
import { newDiskPassphrase, qcow2BackingChainSync, resolveDiskPaths } from '../storage/index.js';

/** The secrets store as far as lifecycle needs it (secrets/SecretStore has this shape; lifecycle does not import it). */
export interface DiskKeyStore {
  set(name: string, value: string): Promise<unknown>;
  reveal(name: string): Promise<string>;
  has(name: string): boolean;
  remove(name: string): Promise<void>;
}

/** Folder of the VM directory where QEMU's secret files exist while it starts. */
export const KEYS_DIR = 'keys';

export const encryptedDisks = (spec: Pick<VmSpec, 'disks'>): DiskSpec[] => spec.disks.filter((d) => d.encrypt === true);

/**
 * `disk.<vm-id>.<disk>`; when that is longer than a secret name may be
 * (63), the disk name is replaced by 16 hex digits of its SHA-256. Pure.
 */
export function diskKeyName(vmId: string, disk: string): string {
  const plain = `disk.${vmId}.${disk}`;
  if (isValidName(plain)) return plain;
  return `disk.${vmId}.${createHash('sha256').update(disk).digest('hex').slice(0, 16)}`;
}

/** Where the passphrase of a LUKS image given by path waits before the VM exists: `disk-import.<vm>.<disk>`. */
export function importKeyName(vm: string, disk: string): string {
  return `disk-import.${vm}.${disk}`;
}

/**
 * Disk name → the backing images below the active image (nearest first), for
 * the encrypted disks that have any (external snapshots): QEMU needs each
 * layer named to give it the key. Read from the qcow2 headers; an image that
 * cannot be read counts as none (the start then reports it).
 */
export function encryptedBackingFiles(spec: Pick<VmSpec, 'disks'>, diskPaths: Record<string, string>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const d of encryptedDisks(spec)) {
    const file = diskPaths[d.name];
    let chain: string[] = [];
    try {
      chain = file === undefined ? [] : qcow2BackingChainSync(file);
    } catch {
      chain = [];
    }
    if (chain.length > 0) out[d.name] = chain;
  }
  return out;
}

/** Disk name → its secret file for QEMU, for every encrypted disk. Pure. */
export function diskSecretFiles(spec: Pick<VmSpec, 'disks'>, dir: string): Record<string, string> {
  return Object.fromEntries(encryptedDisks(spec).map((d) => [d.name, safeJoin(dir, KEYS_DIR, `${d.name}.secret`)]));
}

/**
 * Before a create: every encrypted disk given by path has its passphrase
 * waiting under importKeyName (DISK_KEY_MISSING names the secret to set).
 */
export function checkImportKeys(keys: DiskKeyStore | undefined, spec: VmSpec): void {
  const wanted = encryptedDisks(spec).filter((d) => d.path !== undefined);
  if (wanted.length === 0) return;
  if (!keys) fail('ENCRYPTED_DISK_UNSUPPORTED', `VM ${spec.name} has encrypted disks, and this daemon runs without a secrets store`);
  for (const d of wanted) {
    const name = importKeyName(spec.name, d.name);
    if (!isValidName(name)) fail('DISK_KEY_MISSING', `disk ${d.name}: the secret ${name} is longer than 63 characters; use a shorter VM or disk name`);
    if (!keys.has(name)) {
      fail('DISK_KEY_MISSING', `disk ${d.name} is an existing encrypted image: store its passphrase first with \`polyvisor secret set ${name}\` (value on standard input)`);
    }
  }
}

/** Makes and stores a new passphrase for a disk about to be created; `made` collects the names for a revert. */
export function passphraseMaker(keys: DiskKeyStore | undefined, vmId: string, made: string[]): (d: DiskSpec) => Promise<string> {
  return async (d) => {
    if (!keys) fail('ENCRYPTED_DISK_UNSUPPORTED', `disk ${d.name} is encrypted, and this daemon runs without a secrets store`);
    const name = diskKeyName(vmId, d.name);
    const value = newDiskPassphrase();
    await keys.set(name, value);
    made.push(name);
    return value;
  };
}

/** After the record is written: the waiting passphrases of path-given disks move to the VM's own names. */
export async function adoptImportKeys(keys: DiskKeyStore | undefined, vmId: string, spec: VmSpec, made: string[]): Promise<void> {
  if (!keys) return;
  for (const d of encryptedDisks(spec)) {
    if (d.path === undefined) continue;
    const from = importKeyName(spec.name, d.name);
    const to = diskKeyName(vmId, d.name);
    await keys.set(to, await keys.reveal(from));
    made.push(to);
  }
  for (const d of encryptedDisks(spec)) if (d.path !== undefined) await keys.remove(importKeyName(spec.name, d.name)).catch(() => undefined);
}

/** Removes the named secrets (a revert, a removed VM); absent ones are fine. */
export async function forgetKeys(keys: DiskKeyStore | undefined, names: readonly string[]): Promise<void> {
  if (!keys) return;
  for (const n of names) {
    await keys.remove(validateName(n, 'secret name')).catch((err: unknown) => {
      if (!isPolyvisorError(err, 'SECRET_NOT_FOUND')) throw err;
    });
  }
}

/** Every secret name of a VM's encrypted disks. */
export const keyNamesOf = (vmId: string, spec: Pick<VmSpec, 'disks'>): string[] => encryptedDisks(spec).map((d) => diskKeyName(vmId, d.name));

/**
 * Writes QEMU's secret files (0600, O_EXCL, folder 0700) for the encrypted
 * disks of `spec`; returns the function that removes them again. A missing
 * passphrase is DISK_KEY_MISSING.
 */
export async function writeSecretFiles(keys: DiskKeyStore | undefined, vm: { id: string; name: string }, spec: VmSpec, dir: string): Promise<() => Promise<void>> {
  const files = diskSecretFiles(spec, dir);
  const names = Object.keys(files);
  if (names.length === 0) return async () => undefined;
  const folder = safeJoin(dir, KEYS_DIR);
  const cleanup = (): Promise<void> => rm(folder, { recursive: true, force: true });
  if (!keys) fail('ENCRYPTED_DISK_UNSUPPORTED', `VM ${vm.name} has encrypted disks, and this daemon runs without a secrets store`);
  for (const disk of names) {
    const key = diskKeyName(vm.id, disk);
    if (!keys.has(key)) fail('DISK_KEY_MISSING', `the passphrase of encrypted disk ${disk} of VM ${vm.name} (secret ${key}) is not in this host's secrets store`);
  }
  await cleanup(); // files an interrupted start left
  try {
    await mkdir(folder, { mode: 0o700 });
    for (const disk of names) {
      const key = diskKeyName(vm.id, disk);
      const fh = await open(files[disk]!, 'wx', 0o600);
      try {
        await fh.writeFile(await keys.reveal(key), 'utf8');
      } finally {
        await fh.close();
      }
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  return cleanup;
}

/**
 * Disk name → passphrase of every encrypted disk of a VM, for a move to
 * another host (sent over the move's authenticated request; never logged).
 * DISK_KEY_MISSING when one is not in the store.
 */
export async function diskPassphrases(keys: DiskKeyStore | undefined, vm: { id: string; name: string; spec: Pick<VmSpec, 'disks'> }): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const d of encryptedDisks(vm.spec)) {
    const key = diskKeyName(vm.id, d.name);
    if (!keys?.has(key)) fail('DISK_KEY_MISSING', `the passphrase of encrypted disk ${d.name} of VM ${vm.name} (secret ${key}) is not in this host's secrets store`);
    out[d.name] = await keys.reveal(key);
  }
  return out;
}

/**
 * The target of a move: every encrypted disk of the VM has its passphrase in
 * `given` (INVALID_BODY names the disk otherwise; never the value), and this
 * host has a secrets store. Pure apart from the check.
 */
export function checkMovedKeys(keys: DiskKeyStore | undefined, vm: { name: string; spec: Pick<VmSpec, 'disks'> }, given: Readonly<Record<string, string>> | undefined): void {
  const enc = encryptedDisks(vm.spec);
  const extra = Object.keys(given ?? {}).filter((n) => !enc.some((d) => d.name === n));
  if (extra.length) fail('INVALID_BODY', `diskKeys names ${extra.join(', ')}, which ${extra.length > 1 ? 'are not encrypted disks' : 'is not an encrypted disk'} of VM ${vm.name}`);
  if (enc.length === 0) return;
  if (!keys) fail('ENCRYPTED_DISK_UNSUPPORTED', `VM ${vm.name} has encrypted disks, and this host runs without a secrets store`);
  for (const d of enc) {
    const v = given?.[d.name];
    if (typeof v !== 'string' || v.length === 0) fail('DISK_KEY_MISSING', `the move of VM ${vm.name} carries no passphrase for its encrypted disk ${d.name}; the source daemon must send it (update it to this version)`);
  }
}

/** Stores the passphrases a move brought under the VM's own names; returns the names set (for a rollback: forgetKeys). */
export async function storeMovedKeys(keys: DiskKeyStore | undefined, vm: { id: string; name: string; spec: Pick<VmSpec, 'disks'> }, given: Readonly<Record<string, string>> | undefined): Promise<string[]> {
  checkMovedKeys(keys, vm, given);
  const made: string[] = [];
  try {
    for (const d of encryptedDisks(vm.spec)) {
      const name = diskKeyName(vm.id, d.name);
      await keys!.set(name, given![d.name]!);
      made.push(name);
    }
  } catch (err) {
    await forgetKeys(keys, made).catch(() => undefined);
    throw err;
  }
  return made;
}

/** ENCRYPTED_DISK_UNSUPPORTED for `what` (an operation not wired for encrypted disks yet) when the VM has any. */
export function refuseEncrypted(rec: { name: string; spec: Pick<VmSpec, 'disks'> }, what: string): void {
  const enc = encryptedDisks(rec.spec).map((d) => d.name);
  if (enc.length === 0) return;
  fail('ENCRYPTED_DISK_UNSUPPORTED', `${what} is not available for VM ${rec.name}: its disk${enc.length > 1 ? 's' : ''} ${enc.join(', ')} ${enc.length > 1 ? 'are' : 'is'} encrypted`);
}

/** ENCRYPTED_DISK_PLAINTEXT when an export would write any of `disks` out in clear. */
export function refusePlaintext(vm: string, disks: readonly Pick<DiskSpec, 'name' | 'encrypt'>[]): void {
  const enc = disks.filter((d) => d.encrypt === true).map((d) => d.name);
  if (enc.length === 0) return;
  fail('ENCRYPTED_DISK_PLAINTEXT', `exporting VM ${vm} would write its encrypted disk${enc.length > 1 ? 's' : ''} ${enc.join(', ')} in clear; refused: add --decrypt (API: "decrypt": true) to write ${enc.length > 1 ? 'them' : 'it'} in clear, or leave ${enc.length > 1 ? 'them' : 'it'} out with --disk`);
}

/** Image path → passphrase of every encrypted disk of a VM (DISK_KEY_MISSING when one is not in the store). */
export async function imagePassphrases(keys: DiskKeyStore | undefined, vm: { id: string; name: string; spec: VmSpec }, dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const enc = encryptedDisks(vm.spec);
  if (enc.length === 0) return out;
  const paths = resolveDiskPaths(vm.spec, dir);
  for (const d of enc) {
    const key = diskKeyName(vm.id, d.name);
    if (!keys?.has(key)) fail('DISK_KEY_MISSING', `the passphrase of encrypted disk ${d.name} of VM ${vm.name} (secret ${key}) is not in this host's secrets store`);
    out.set(paths[d.name]!, await keys.reveal(key));
  }
  return out;
}

/**
 * `backup.<vm-id>.<disk>`: the passphrase the backups of an encrypted disk
 * are encrypted with (the disk's own value, kept under a name of its own so
 * the backups stay readable after the VM and its disk key are gone). Pure.
 */
export function backupKeyName(vmId: string, disk: string): string {
  return diskKeyName(vmId, disk).replace(/^disk\./, 'backup.');
}

/**
 * Disk name → passphrase for the backup of each encrypted disk of a VM: the
 * disk's own (QEMU already holds it, so a live backup target opens with the
 * disk's secret object), stored also as backupKeyName the first time.
 */
export async function backupPassphrases(keys: DiskKeyStore | undefined, vm: { id: string; name: string; spec: VmSpec }): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const d of encryptedDisks(vm.spec)) {
    const key = diskKeyName(vm.id, d.name);
    if (!keys?.has(key)) fail('DISK_KEY_MISSING', `the passphrase of encrypted disk ${d.name} of VM ${vm.name} (secret ${key}) is not in this host's secrets store`);
    const value = await keys.reveal(key);
    const name = backupKeyName(vm.id, d.name);
    if (!keys.has(name) || (await keys.reveal(name)) !== value) await keys.set(name, value);
    out[d.name] = value;
  }
  return out;
}

/** The passphrase of the backups of an encrypted disk (DISK_KEY_MISSING names the secret when it is gone). */
export async function backupPassphrase(keys: DiskKeyStore | undefined, vm: { id: string; name: string }, disk: string): Promise<string> {
  const name = backupKeyName(vm.id, disk);
  if (!keys?.has(name)) fail('DISK_KEY_MISSING', `the backups of encrypted disk ${disk} of VM ${vm.name} need the secret ${name}, which is not in this host's secrets store`);
  return keys.reveal(name);
}
