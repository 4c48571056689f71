import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretStore } from '../secrets/index.js';
import { isPolyvisorError } from '../shared/index.js';
import { validateSpec } from '../spec/index.js';
import { adoptImportKeys, checkMovedKeys, diskPassphrases, storeMovedKeys, refusePlaintext, backupKeyName, backupPassphrase, backupPassphrases, checkImportKeys, diskKeyName, diskSecretFiles, forgetKeys, importKeyName, keyNamesOf, passphraseMaker, writeSecretFiles } from './disk-keys.js';

// The real secrets store in a temp state directory.
let dir: string;
let keys: SecretStore;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-diskkeys-'));
  keys = await SecretStore.open({ stateDir: dir });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const ID = '0b6f7c1e-5d2a-4c8e-9f3b-7a1d2e3f4a5b';
const spec = validateSpec({ name: 'vault', disks: [{ name: 'data', size: '1G', encrypt: true }, { name: 'plain', size: '1G' }] });
const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return isPolyvisorError(e) ? e.code : e;
  }
};

describe('disk keys', () => {
  it('names each key by VM id and disk, within the secret-name rule', () => {
    expect(diskKeyName(ID, 'data')).toBe(`disk.${ID}.data`);
    const long = diskKeyName(ID, 'd'.repeat(40));
    expect(long).toMatch(new RegExp(`^disk\\.${ID}\\.[0-9a-f]{16}$`));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(diskKeyName(ID, 'd'.repeat(40))).not.toBe(diskKeyName(ID, 'd'.repeat(41)));
    expect(keyNamesOf(ID, spec)).toEqual([`disk.${ID}.data`]);
    expect(diskSecretFiles(spec, '/vms/x')).toEqual({ data: '/vms/x/keys/data.secret' });
  });

  it('stores a fresh 32-byte passphrase per disk, and forgets them', async () => {
    const made: string[] = [];
    const mk = passphraseMaker(keys, ID, made);
    const a = await mk(spec.disks[0]!);
    expect(Buffer.from(a, 'base64')).toHaveLength(32);
    expect(await keys.reveal(`disk.${ID}.data`)).toBe(a);
    expect(made).toEqual([`disk.${ID}.data`]);
    await forgetKeys(keys, [...made, 'disk.absent']);
    expect(keys.has(`disk.${ID}.data`)).toBe(false);
  });

  it('writes QEMU\'s secret files 0600 in a 0700 folder and removes them; a missing key is DISK_KEY_MISSING and leaves nothing', async () => {
    const vmDir = path.join(dir, 'vm');
    await mkdir(vmDir);
    await expect(writeSecretFiles(keys, { id: ID, name: 'vault' }, spec, vmDir)).rejects.toMatchObject({ code: 'DISK_KEY_MISSING' });
    await expect(stat(path.join(vmDir, 'keys'))).rejects.toThrow();
    await keys.set(`disk.${ID}.data`, 'planted-passphrase');
    const drop = await writeSecretFiles(keys, { id: ID, name: 'vault' }, spec, vmDir);
    const f = path.join(vmDir, 'keys', 'data.secret');
    expect(await readFile(f, 'utf8')).toBe('planted-passphrase');
    expect((await stat(f)).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(vmDir, 'keys'))).mode & 0o777).toBe(0o700);
    await drop();
    expect(await readdir(vmDir)).toEqual([]);
  });

  it('takes a path-given LUKS disk\'s passphrase from disk-import.<vm>.<disk> and moves it to the VM\'s name', async () => {
    const byPath = validateSpec({ name: 'vault', disks: [{ name: 'old', path: '/srv/old.qcow2', encrypt: true }] });
    expect(codeOf(() => checkImportKeys(keys, byPath))).toBe('DISK_KEY_MISSING');
    expect(() => checkImportKeys(keys, byPath)).toThrow(/polyvisor secret set disk-import\.vault\.old/);
    expect(codeOf(() => checkImportKeys(undefined, byPath))).toBe('ENCRYPTED_DISK_UNSUPPORTED');
    await keys.set(importKeyName('vault', 'old'), 'their-passphrase');
    expect(codeOf(() => checkImportKeys(keys, byPath))).toBe('no error');
    const made: string[] = [];
    await adoptImportKeys(keys, ID, byPath, made);
    expect(await keys.reveal(`disk.${ID}.old`)).toBe('their-passphrase');
    expect(keys.has('disk-import.vault.old')).toBe(false);
    expect(made).toEqual([`disk.${ID}.old`]);
  });

  it('backs an encrypted disk up under its own passphrase, kept as backup.<id>.<disk> so the backups outlive the VM', async () => {
    expect(backupKeyName(ID, 'data')).toBe(`backup.${ID}.data`);
    expect(backupKeyName(ID, 'd'.repeat(40))).toMatch(new RegExp(`^backup\\.${ID}\\.[0-9a-f]{16}$`));
    const vm = { id: ID, name: 'vault', spec };
    await expect(backupPassphrases(keys, vm)).rejects.toMatchObject({ code: 'DISK_KEY_MISSING' });
    await keys.set(diskKeyName(ID, 'data'), 'the-disk-passphrase');
    expect(await backupPassphrases(keys, vm)).toEqual({ data: 'the-disk-passphrase' }); // the plain disk has none
    await forgetKeys(keys, keyNamesOf(ID, spec)); // the VM is removed
    expect(await backupPassphrase(keys, vm, 'data')).toBe('the-disk-passphrase');
    await expect(backupPassphrase(keys, vm, 'plain')).rejects.toMatchObject({ code: 'DISK_KEY_MISSING' });
  });

  it('a move carries the passphrases by disk name; the target checks them all came, stores them under the VM\'s names, and a rollback forgets them', async () => {
    const vm = { id: ID, name: 'vault', spec };
    await keys.set(`disk.${ID}.data`, 'the-source-value');
    expect(await diskPassphrases(keys, vm)).toEqual({ data: 'the-source-value' });
    expect(await diskPassphrases(keys, { ...vm, spec: validateSpec({ name: 'vault', disks: [{ name: 'plain', size: '1G' }] }) })).toEqual({});
    await keys.remove(`disk.${ID}.data`);
    await expect(diskPassphrases(keys, vm)).rejects.toMatchObject({ code: 'DISK_KEY_MISSING' });
    // The target: every encrypted disk needs its value, nothing else may be named, and a host without a store refuses.
    expect(codeOf(() => checkMovedKeys(keys, vm, undefined))).toBe('DISK_KEY_MISSING');
    expect(codeOf(() => checkMovedKeys(keys, vm, { data: '' }))).toBe('DISK_KEY_MISSING');
    expect(codeOf(() => checkMovedKeys(keys, vm, { data: 'v', plain: 'v' }))).toBe('INVALID_BODY');
    expect(codeOf(() => checkMovedKeys(undefined, vm, { data: 'v' }))).toBe('ENCRYPTED_DISK_UNSUPPORTED');
    let msg = '';
    try {
      checkMovedKeys(keys, vm, { data: 'SECRET-VALUE-1', other: 'SECRET-VALUE-2' });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('other');
    expect(msg).not.toContain('SECRET-VALUE');
    const made = await storeMovedKeys(keys, vm, { data: 'the-moved-value' });
    expect(made).toEqual([`disk.${ID}.data`]);
    expect(await keys.reveal(`disk.${ID}.data`)).toBe('the-moved-value');
    await forgetKeys(keys, made);
    expect(keys.has(`disk.${ID}.data`)).toBe(false);
  });

  it('refuses an export that would write an encrypted disk in clear, saying how to ask for it (golden message)', () => {
    expect(() => refusePlaintext('vault', [{ name: 'plain' }])).not.toThrow();
    expect(() => refusePlaintext('vault', [{ name: 'data', encrypt: true }, { name: 'plain' }])).toThrow(
      'exporting VM vault would write its encrypted disk data in clear; refused: add --decrypt (API: "decrypt": true) to write it in clear, or leave it out with --disk',
    );
  });
});
