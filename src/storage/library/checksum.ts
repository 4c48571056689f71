/**
 * Checksums: "sha256:HEX", "sha512:HEX" or bare HEX (the length says which),
 * and checksum files in GNU coreutils (`HEX  name`, `HEX *name`) or BSD
 * (`SHA256 (name) = HEX`) form, as Debian, Ubuntu and Fedora publish them.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { fail } from '../../shared/index.js';

export type HashAlgorithm = 'sha256' | 'sha512';

export interface Checksum {
  algorithm: HashAlgorithm;
  /** Lowercase hex digest. */
  hex: string;
}

const HEX_LEN: Record<HashAlgorithm, number> = { sha256: 64, sha512: 128 };

export function parseChecksum(text: string): Checksum {
  const m = /^(?:(sha256|sha512)[:=])?([0-9a-fA-F]+)$/.exec(text.trim());
  if (!m) fail('INVALID_ARGUMENT', `checksum ${JSON.stringify(text)} must be sha256:HEX, sha512:HEX or a bare hex digest`);
  const hex = m[2]!.toLowerCase();
  const algorithm = (m[1] as HashAlgorithm | undefined) ?? (hex.length === 64 ? 'sha256' : hex.length === 128 ? 'sha512' : undefined);
  if (algorithm === undefined || hex.length !== HEX_LEN[algorithm]) {
    fail('INVALID_ARGUMENT', `checksum has ${hex.length} hex digits; sha256 has 64 and sha512 has 128`);
  }
  return { algorithm, hex };
}

/** Finds `fileName`'s entry in a checksum file; undefined when it is not listed. */
export function findInSumsFile(text: string, fileName: string): Checksum | undefined {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const gnu = /^([0-9a-fA-F]{64}|[0-9a-fA-F]{128}) [ *]?(.+)$/.exec(line);
    const bsd = /^(SHA256|SHA512) \((.+)\) = ([0-9a-fA-F]+)$/.exec(line);
    const name = gnu ? gnu[2]! : bsd?.[2];
    const hex = gnu ? gnu[1]! : bsd?.[3];
    if (name === undefined || hex === undefined) continue;
    if (name.replace(/^\.\//, '') === fileName) return parseChecksum(hex);
  }
  return undefined;
}

/** Hashes a whole file, reporting bytes read. */
export async function hashFile(file: string, algorithm: HashAlgorithm, onBytes?: (n: number) => void, signal?: AbortSignal): Promise<string> {
  const h = createHash(algorithm);
  let n = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024, ...(signal ? { signal } : {}) })) {
    h.update(chunk as Buffer);
    n += (chunk as Buffer).length;
    onBytes?.(n);
  }
  return h.digest('hex');
}
