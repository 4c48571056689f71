/**
 * `polyvisor release verify DIR`: every SHA256SUMS line against the files (changed, missing and
 * unlisted files named), and SHA256SUMS.sig against SHA256SUMS with the release's public key.
 * `verifyRelease` returns the whole report; `assertReleaseOk` turns a failed one into the
 * catalogue error that says what failed.
 */
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fail } from '../shared/index.js';
import { sha256File } from './hash-file.js';
import { listFiles } from './list-files.js';
import { keyFingerprint, readPublicKey, signatureValid } from './signature.js';
import { parseSums, SIGNATURE_FILE, SUMS_FILE } from './sums.js';

export type FileStatus = 'ok' | 'changed' | 'missing';
/** valid/invalid: checked with the key; missing: a key was given but DIR has no SHA256SUMS.sig; unchecked: no key given. */
export type SignatureStatus = 'valid' | 'invalid' | 'missing' | 'unchecked';

export interface ReleaseReport {
  dir: string;
  ok: boolean;
  files: Array<{ path: string; status: FileStatus; expected: string; actual?: string }>;
  /** Files in DIR that SHA256SUMS does not list (SHA256SUMS and its signature aside). */
  extra: string[];
  signature: SignatureStatus;
  keyFingerprint?: string;
}

export interface VerifyOptions {
  /** PEM text of the Ed25519 public key; without it the signature is not checked. */
  publicKeyPem?: string;
  /** Where the key came from, for messages. */
  keySource?: string;
  /** Listed files absent from DIR are not failures (a partial download, like `sha256sum -c --ignore-missing`). */
  ignoreMissing?: boolean;
}

async function isFile(p: string): Promise<boolean | null> {
  try {
    return (await lstat(p)).isFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function verifyRelease(dir: string, o: VerifyOptions = {}): Promise<ReleaseReport> {
  const abs = path.resolve(dir);
  const key = o.publicKeyPem === undefined ? undefined : readPublicKey(o.publicKeyPem, o.keySource);
  let dirIsDir = false;
  try {
    dirIsDir = (await lstat(abs)).isDirectory();
  } catch {
    // reported below
  }
  if (!dirIsDir) fail('FILE_NOT_FOUND', `${abs} is not a directory`);
  let sumsBytes: Buffer;
  try {
    sumsBytes = await readFile(path.join(abs, SUMS_FILE));
  } catch (err) {
    return fail('RELEASE_MANIFEST_INVALID', `${abs} has no readable ${SUMS_FILE}`, { cause: err });
  }
  const entries = parseSums(sumsBytes.toString('utf8'));

  let signature: SignatureStatus = 'unchecked';
  if (key) {
    const sigPath = path.join(abs, SIGNATURE_FILE);
    signature = (await isFile(sigPath)) ? (signatureValid(sumsBytes, await readFile(sigPath), key) ? 'valid' : 'invalid') : 'missing';
  }

  const files: ReleaseReport['files'] = [];
  for (const e of entries) {
    const p = path.join(abs, ...e.path.split('/'));
    const present = await isFile(p);
    if (!present) {
      files.push({ path: e.path, status: 'missing', expected: e.sha256 });
      continue;
    }
    const actual = await sha256File(p);
    files.push(actual === e.sha256 ? { path: e.path, status: 'ok', expected: e.sha256 } : { path: e.path, status: 'changed', expected: e.sha256, actual });
  }
  const listed = new Set(entries.map((e) => e.path));
  const extra = (await listFiles(abs)).filter((f) => f !== SUMS_FILE && f !== SIGNATURE_FILE && !listed.has(f));

  const filesOk = files.every((f) => f.status === 'ok' || (f.status === 'missing' && o.ignoreMissing === true)) && extra.length === 0;
  const signatureOk = signature === 'valid' || signature === 'unchecked';
  return {
    dir: abs,
    ok: filesOk && signatureOk,
    files,
    extra,
    signature,
    ...(key ? { keyFingerprint: keyFingerprint(key) } : {}),
  };
}

/** Throws the catalogue error for a failed report: the signature first (then no line can be trusted), then the files. */
export function assertReleaseOk(r: ReleaseReport, o: { ignoreMissing?: boolean } = {}): void {
  if (r.signature === 'invalid') fail('RELEASE_SIGNATURE_INVALID', `${SIGNATURE_FILE} in ${r.dir} is not a signature of its ${SUMS_FILE} by the key ${r.keyFingerprint ?? ''}`.trimEnd());
  if (r.signature === 'missing') fail('RELEASE_SIGNATURE_INVALID', `${r.dir} has no ${SIGNATURE_FILE} to check with the key ${r.keyFingerprint ?? ''}`.trimEnd());
  const changed = r.files.filter((f) => f.status === 'changed').map((f) => f.path);
  const missing = o.ignoreMissing ? [] : r.files.filter((f) => f.status === 'missing').map((f) => f.path);
  if (changed.length + missing.length + r.extra.length === 0) return;
  const parts = [
    ...(changed.length ? [`changed: ${changed.join(', ')}`] : []),
    ...(missing.length ? [`missing: ${missing.join(', ')}`] : []),
    ...(r.extra.length ? [`not in ${SUMS_FILE}: ${r.extra.join(', ')}`] : []),
  ];
  fail('RELEASE_CHECKSUM_MISMATCH', `${r.dir} does not match its ${SUMS_FILE} (${parts.join('; ')})`, { details: { changed, missing, extra: r.extra } });
}
