/**
 * The detached signature of SHA256SUMS: a raw 64-byte Ed25519 signature over the file's bytes,
 * as `openssl pkeyutl -sign -rawin` writes it (docs/releasing.md). Verified with node:crypto.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { fail } from '../shared/index.js';

/** An Ed25519 public key from PEM text; RELEASE_KEY_INVALID for anything else (a private key too). */
export function readPublicKey(pem: string, source = 'the key'): KeyObject {
  if (/PRIVATE KEY/.test(pem)) fail('RELEASE_KEY_INVALID', `${source} is a private key; give the public key`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    return fail('RELEASE_KEY_INVALID', `${source} is not a PEM public key`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') fail('RELEASE_KEY_INVALID', `${source} is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  return key;
}

/** "sha256:HEX" of the key's DER SubjectPublicKeyInfo, to compare with the one docs/releasing.md publishes. */
export function keyFingerprint(key: KeyObject): string {
  return `sha256:${createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex')}`;
}

/** Whether `signature` is `key`'s Ed25519 signature of `data` (false for a signature of the wrong size). */
export function signatureValid(data: Buffer, signature: Buffer, key: KeyObject): boolean {
  if (signature.length !== 64) return false;
  return verify(null, data, key, signature);
}
