import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPolyvisorError, run } from '../shared/index.js';
import { checkLuksImage, convertKeyed, createEncryptedImage, createImage, encryptedCreateArgs, imageInfo, isLuksQcow2, keyedImageOpts, newDiskPassphrase, withSecretFile } from './index.js';

// Real qemu-img and qemu-io (Debian's qemu-utils): nothing here is faked.
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-luks-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const MiB = 1024 ** 2;
const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (isPolyvisorError(e) ? e.code : e));

/** Writes (or, with `read`, verifies) 1 MiB of byte `pattern` at offset 0 through the LUKS layer; 0 when the passphrase opened it (and the data matched). */
async function qemuIoWrite(image: string, passphrase: string, pattern: number, op: 'write' | 'read' = 'write'): Promise<number | null> {
  return withSecretFile(dir, passphrase, async (file) => {
    const r = await run('qemu-io', ['--object', `secret,id=s0,file=${file}`, '--image-opts', `driver=qcow2,file.filename=${image},encrypt.key-secret=s0`, '-c', `${op} -P ${pattern} 0 1M`], { timeoutMs: 60_000 });
    return r.code === 0 && /Pattern verification failed/.test(r.stdout) ? 1 : r.code;
  });
}

describe('encrypted qcow2 images (LUKS)', () => {
  it('creates a LUKS image that opens with its passphrase only, holds no plaintext, and leaves no key file behind', async () => {
    const img = path.join(dir, 'd.qcow2');
    const pass = newDiskPassphrase();
    expect(Buffer.from(pass, 'base64')).toHaveLength(32);
    await createEncryptedImage(img, 16 * MiB, pass);
    expect(await readdir(dir)).toEqual(['d.qcow2']); // the 0600 secret file and the temp image are gone
    const info = await imageInfo(img);
    expect(info).toMatchObject({ format: 'qcow2', encrypted: true, encryptFormat: 'luks', virtualSize: 16 * MiB });
    expect(isLuksQcow2(info)).toBe(true);
    expect(await qemuIoWrite(img, newDiskPassphrase(), 0x5a)).not.toBe(0); // a wrong passphrase opens nothing
    expect(await qemuIoWrite(img, pass, 0x5a)).toBe(0);
    const bytes = await readFile(img);
    expect(bytes.includes(Buffer.alloc(4096, 0x5a))).toBe(false); // 1 MiB of 0x5a went in; not one clear 4 KiB run of it is on disk
  }, 60_000);

  it('copies an encrypted image into another under a different passphrase (a clone), the data intact and no key file left', async () => {
    const a = path.join(dir, 'a.qcow2');
    const b = path.join(dir, 'b.qcow2');
    const pa = newDiskPassphrase();
    const pb = newDiskPassphrase();
    await createEncryptedImage(a, 4 * MiB, pa);
    await createEncryptedImage(b, 4 * MiB, pb);
    expect(await qemuIoWrite(a, pa, 0x6b)).toBe(0);
    await convertKeyed({ path: a, format: 'qcow2', passphrase: pa }, { path: b, format: 'qcow2', passphrase: pb });
    expect(await qemuIoWrite(b, pb, 0x6b, 'read')).toBe(0);
    expect(await qemuIoWrite(b, pb, 0x6c, 'read')).not.toBe(0); // the check above can fail
    expect(await qemuIoWrite(b, pa, 0x6b, 'read')).not.toBe(0); // b is not under a's passphrase
    expect((await readdir(dir)).sort()).toEqual(['a.qcow2', 'b.qcow2']);
  }, 60_000);

  it('writes the secret file 0600 and removes it also when the work fails', async () => {
    let seen = '';
    await expect(withSecretFile(dir, 'pw', async (f) => {
      const { stat } = await import('node:fs/promises');
      expect((await stat(f)).mode & 0o777).toBe(0o600);
      seen = await readFile(f, 'utf8');
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(seen).toBe('pw');
    expect(await readdir(dir)).toEqual([]);
  });

  it('names the secret file in qemu-img argv, never the passphrase', () => {
    const args = encryptedCreateArgs('/v/.key-1.secret', '/v/d.qcow2', MiB);
    expect(args).toContain('secret,id=sec0,file=/v/.key-1.secret');
    expect(args.join(' ')).toMatch(/encrypt\.format=luks,encrypt\.key-secret=sec0/);
  });

  it('checkLuksImage refuses a plain qcow2, a raw file and legacy AES, naming the disk', async () => {
    const plain = path.join(dir, 'p.qcow2');
    await createImage(plain, 'qcow2', MiB);
    const raw = path.join(dir, 'r.img');
    await writeFile(raw, Buffer.alloc(MiB));
    const messages: string[] = [];
    for (const f of [plain, raw]) {
      const err = await checkLuksImage('data', f).catch((e: unknown) => e);
      expect(isPolyvisorError(err, 'DISK_NOT_ENCRYPTED')).toBe(true);
      messages.push((err as Error).message);
    }
    expect(messages[0]).toMatch(/^disk data: .*p\.qcow2 is a qcow2 image that is not encrypted/);
    expect(messages[1]).toMatch(/is a raw image, not qcow2/);
    expect(await codeOf(checkLuksImage('data', path.join(dir, 'missing.qcow2')))).not.toBe('no error');
    expect(isLuksQcow2({ format: 'qcow2', encrypted: true, encryptFormat: 'aes' })).toBe(false);
  });

  it('names the key once per layer of a chain, and none for a plain image (pure)', () => {
    expect(keyedImageOpts({ path: '/v/a,b.qcow2', format: 'qcow2' }, 's')).toBe('driver=qcow2,file.driver=file,file.filename=/v/a,,b.qcow2');
    expect(keyedImageOpts({ path: '/v/t.qcow2', format: 'qcow2', passphrase: 'x', backingDepth: 2 }, 's'))
      .toBe('driver=qcow2,file.driver=file,file.filename=/v/t.qcow2,encrypt.key-secret=s,backing.encrypt.key-secret=s,backing.backing.encrypt.key-secret=s');
    expect(encryptedCreateArgs('/k', '/v/o.qcow2', 1024, 'b.qcow2')).toEqual(expect.arrayContaining(['-u', '-b', 'b.qcow2', '-F', 'qcow2']));
  });
});
