/**
 * AES-256-GCM sealing of one secret value. The secret's name and the key's id
 * are the additional authenticated data, so a sealed value copied under
 * another name, or read with another key, fails to open instead of decrypting.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface Sealed {
  /** Id of the key that sealed it (see key-ring.ts). */
  key: string;
  /** 12-byte nonce, base64. */
  iv: string;
  /** 16-byte GCM tag, base64. */
  tag: string;
  /** Ciphertext, base64. */
  data: string;
}

const aad = (name: string, keyId: string): Buffer => Buffer.from(`polyvisor-secret\0${name}\0${keyId}`, 'utf8');

export function seal(name: string, value: string, keyId: string, key: Buffer): Sealed {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aad(name, keyId));
  const data = Buffer.concat([c.update(value, 'utf8'), c.final()]);
  return { key: keyId, iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') };
}

/** The value, or throws (plain Error, no secret in it) if the key, name or bytes do not match. */
export function open(name: string, s: Sealed, key: Buffer): string {
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(s.iv, 'base64'));
  d.setAAD(aad(name, s.key));
  d.setAuthTag(Buffer.from(s.tag, 'base64'));
  return Buffer.concat([d.update(Buffer.from(s.data, 'base64')), d.final()]).toString('utf8');
}
