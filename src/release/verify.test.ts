/** verifyRelease on real files in a temp dir, signed with a real Ed25519 key pair (node:crypto, as openssl would). */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPolyvisorError, type PolyvisorError } from '../shared/index.js';
import { assertReleaseOk, formatSums, parseSums, verifyRelease, type ReleaseReport } from './index.js';

const pem = (k: { export: (o: { type: 'spki'; format: 'pem' }) => string | Buffer }): string => String(k.export({ type: 'spki', format: 'pem' }));
const keys = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const PUB = pem(keys.publicKey);
const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

let dir: string;
const FILES: Record<string, string> = { 'polyvisor-1.2.3.tgz': 'tarball bytes', 'appliance/polyvisor-appliance.qcow2': 'qcow2 bytes', 'appliance/SHA256SUMS': 'inner sums' };

function writeRelease(): void {
  for (const [f, body] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), body);
  }
  const sums = formatSums(Object.entries(FILES).map(([p, body]) => ({ path: p, sha256: sha(body) })));
  writeFileSync(path.join(dir, 'SHA256SUMS'), sums);
  writeFileSync(path.join(dir, 'SHA256SUMS.sig'), sign(null, Buffer.from(sums), keys.privateKey));
}

function errorOf(r: ReleaseReport, o?: { ignoreMissing?: boolean }): PolyvisorError {
  try {
    assertReleaseOk(r, o);
  } catch (err) {
    if (isPolyvisorError(err)) return err;
    throw err;
  }
  throw new Error('assertReleaseOk passed');
}

async function rejection(p: Promise<unknown>): Promise<PolyvisorError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!isPolyvisorError(err)) throw new Error(`expected a PolyvisorError, got ${String(err)}`);
  return err;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pv-release-'));
  writeRelease();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('verifyRelease', () => {
  it('passes a good release: every file ok, the signature valid, the key fingerprint reported', async () => {
    const r = await verifyRelease(dir, { publicKeyPem: PUB });
    expect(r.ok).toBe(true);
    expect(r.signature).toBe('valid');
    expect(r.files.map((f) => [f.path, f.status])).toEqual([
      ['appliance/SHA256SUMS', 'ok'],
      ['appliance/polyvisor-appliance.qcow2', 'ok'],
      ['polyvisor-1.2.3.tgz', 'ok'],
    ]);
    expect(r.extra).toEqual([]);
    expect(r.keyFingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(() => assertReleaseOk(r)).not.toThrow();
  });

  it('names a tampered file as changed (RELEASE_CHECKSUM_MISMATCH) while the signature stays valid', async () => {
    writeFileSync(path.join(dir, 'polyvisor-1.2.3.tgz'), 'tarball byteZ');
    const r = await verifyRelease(dir, { publicKeyPem: PUB });
    expect(r.ok).toBe(false);
    expect(r.signature).toBe('valid');
    const f = r.files.find((x) => x.path === 'polyvisor-1.2.3.tgz')!;
    expect(f).toMatchObject({ status: 'changed', expected: sha('tarball bytes'), actual: sha('tarball byteZ') });
    const err = errorOf(r);
    expect(err.code).toBe('RELEASE_CHECKSUM_MISMATCH');
    expect(err.message).toContain('changed: polyvisor-1.2.3.tgz');
    expect(err.details).toEqual({ changed: ['polyvisor-1.2.3.tgz'], missing: [], extra: [] });
  });

  it('names missing and unlisted files; --ignore-missing forgives only the missing ones', async () => {
    rmSync(path.join(dir, 'appliance/polyvisor-appliance.qcow2'));
    const r = await verifyRelease(dir, { publicKeyPem: PUB });
    expect(r.files.find((x) => x.path === 'appliance/polyvisor-appliance.qcow2')?.status).toBe('missing');
    expect(errorOf(r).message).toContain('missing: appliance/polyvisor-appliance.qcow2');
    const partial = await verifyRelease(dir, { publicKeyPem: PUB, ignoreMissing: true });
    expect(partial.ok).toBe(true);
    expect(() => assertReleaseOk(partial, { ignoreMissing: true })).not.toThrow();

    writeFileSync(path.join(dir, 'appliance', 'evil.sh'), 'echo hi');
    const withExtra = await verifyRelease(dir, { publicKeyPem: PUB, ignoreMissing: true });
    expect(withExtra.ok).toBe(false);
    expect(withExtra.extra).toEqual(['appliance/evil.sh']);
    const err = errorOf(withExtra, { ignoreMissing: true });
    expect(err.code).toBe('RELEASE_CHECKSUM_MISMATCH');
    expect(err.message).toContain('not in SHA256SUMS: appliance/evil.sh');
    expect(err.message).not.toContain('missing:');
  });

  it('fails a SHA256SUMS edited after signing (RELEASE_SIGNATURE_INVALID), even when the files match the edited list', async () => {
    writeFileSync(path.join(dir, 'polyvisor-1.2.3.tgz'), 'swapped tarball');
    const sums = formatSums(Object.entries({ ...FILES, 'polyvisor-1.2.3.tgz': 'swapped tarball' }).map(([p, body]) => ({ path: p, sha256: sha(body) })));
    writeFileSync(path.join(dir, 'SHA256SUMS'), sums);
    const r = await verifyRelease(dir, { publicKeyPem: PUB });
    expect(r.files.every((f) => f.status === 'ok')).toBe(true);
    expect(r.signature).toBe('invalid');
    expect(r.ok).toBe(false);
    expect(errorOf(r).code).toBe('RELEASE_SIGNATURE_INVALID');
  });

  it('fails with the wrong key, and with no signature file when a key is given; unchecked without a key', async () => {
    const wrong = await verifyRelease(dir, { publicKeyPem: pem(other.publicKey) });
    expect(wrong.signature).toBe('invalid');
    expect(errorOf(wrong).message).toContain(wrong.keyFingerprint!);
    rmSync(path.join(dir, 'SHA256SUMS.sig'));
    const missing = await verifyRelease(dir, { publicKeyPem: PUB });
    expect(missing.signature).toBe('missing');
    expect(errorOf(missing).code).toBe('RELEASE_SIGNATURE_INVALID');
    const unchecked = await verifyRelease(dir);
    expect(unchecked).toMatchObject({ ok: true, signature: 'unchecked' });
    expect(unchecked.keyFingerprint).toBeUndefined();
  });

  it('refuses a key that is not an Ed25519 public key (RELEASE_KEY_INVALID)', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect((await rejection(verifyRelease(dir, { publicKeyPem: pem(rsa.publicKey) }))).message).toMatch(/rsa key, not Ed25519/);
    const priv = String(keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect((await rejection(verifyRelease(dir, { publicKeyPem: priv }))).message).toMatch(/private key/);
    expect((await rejection(verifyRelease(dir, { publicKeyPem: 'not a key' }))).code).toBe('RELEASE_KEY_INVALID');
  });

  it('refuses a directory without SHA256SUMS, and a missing directory', async () => {
    rmSync(path.join(dir, 'SHA256SUMS'));
    expect((await rejection(verifyRelease(dir))).code).toBe('RELEASE_MANIFEST_INVALID');
    expect((await rejection(verifyRelease(path.join(dir, 'nope')))).code).toBe('FILE_NOT_FOUND');
  });
});

describe('parseSums', () => {
  const h = 'a'.repeat(64);
  it('reads text and binary mode lines and CRLF; writes them sorted', () => {
    expect(parseSums(`${h}  b.tgz\r\n${h.toUpperCase()} *a/x.img\n`)).toEqual([{ sha256: h, path: 'b.tgz' }, { sha256: h, path: 'a/x.img' }]);
    expect(formatSums([{ sha256: h, path: 'b' }, { sha256: h, path: 'a' }])).toBe(`${h}  a\n${h}  b\n`);
  });
  it.each([
    ['../etc/passwd', /"\.\."/],
    ['/etc/passwd', /absolute/],
    ['a//b', /empty/],
    ['a\\b', /backslash/],
  ])('refuses the path %s', (p, why) => {
    expect(() => parseSums(`${h}  ${p}\n`)).toThrow(why);
  });
  it('refuses a bad line, a repeated path and an empty file, naming the line', () => {
    expect(() => parseSums(`${h}  a\nnot a line\n`)).toThrow(/line 2/);
    expect(() => parseSums(`${h}  a\n${h}  a\n`)).toThrow(/listed twice/);
    expect(() => parseSums('')).toThrow(/lists no files/);
  });
});
