/**
 * Copies members listed by tar-read.ts out of an archive into a folder the
 * caller just made (mkdtemp), streaming each one and hashing it on the way
 * (the digests an OVA manifest asks for), so a disk is read once. Every
 * target is checked to stay inside the folder and is created exclusively
 * (`wx`): nothing is ever written outside it or over another file.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fail } from '../shared/index.js';
import type { TarMember } from './tar-read.js';
import type { ManifestEntry } from './types.js';

export type Digests = Partial<Record<ManifestEntry['algorithm'], string>>;

export interface ExtractOptions {
  signal?: AbortSignal;
  /** Digests to compute per member name. */
  hashes?: (name: string) => Array<ManifestEntry['algorithm']>;
  /** Called with the bytes copied so far across all members. */
  onBytes?: (done: number) => void;
}

/** Where a member lands in `dir`; refused if it would leave it. */
export function memberTarget(dir: string, name: string): string {
  const target = path.resolve(dir, name);
  const rel = path.relative(dir, target);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) fail('INTERCHANGE_INVALID', `the member ${JSON.stringify(name)} would be written outside the import folder; refused`);
  return target;
}

/** Extracts `members` of `archive` into `dir`; answers each member's digests. */
export async function extractMembers(archive: string, members: TarMember[], dir: string, o: ExtractOptions = {}): Promise<Map<string, Digests>> {
  const out = new Map<string, Digests>();
  let done = 0;
  for (const m of members) {
    const target = memberTarget(dir, m.name);
    await mkdir(path.dirname(target), { recursive: true }).catch((err: Error) => fail('INTERCHANGE_INVALID', `${archive}: the member ${m.name} cannot be placed (${err.message})`));
    const hashes: Array<[ManifestEntry['algorithm'], Hash]> = (o.hashes?.(m.name) ?? []).map((a) => [a, createHash(a)]);
    let copied = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        copied += chunk.length;
        done += chunk.length;
        for (const [, h] of hashes) h.update(chunk);
        o.onBytes?.(done);
        cb(null, chunk);
      },
    });
    const sink = createWriteStream(target, { flags: 'wx', mode: 0o600 });
    const source = m.size === 0
      ? (async function* empty() { /* nothing */ })()
      : createReadStream(archive, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1024 * 1024 });
    await (o.signal ? pipeline(source, tap, sink, { signal: o.signal }) : pipeline(source, tap, sink)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST' || err.code === 'ENOTDIR' || err.code === 'EISDIR') fail('INTERCHANGE_INVALID', `${archive}: the member ${m.name} collides with another member`);
      throw err;
    });
    if (copied !== m.size) fail('INTERCHANGE_INVALID', `${archive}: truncated: the member ${m.name} gave ${copied} of its ${m.size} bytes`);
    out.set(m.name, Object.fromEntries(hashes.map(([a, h]) => [a, h.digest('hex')])));
  }
  return out;
}
