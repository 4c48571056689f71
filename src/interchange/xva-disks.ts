/**
 * The disks of an XVA: each VDI is a folder of the tar named by its id
 * (`Ref:5/`) holding 1 MiB chunks `00000000`, `00000001`, … each optionally
 * followed by `NNNNNNNN.checksum` (SHA-1, hex) or `NNNNNNNN.xxhash` (XXH64,
 * 16 hex digits). Read the way XAPI's own import reads them (xen-api
 * `ocaml/xapi/stream_vdi.ml`, recv_all_vdi): in chunk-number order, a chunk
 * lands right after the previous one, plus 1 MiB of zeros for every number
 * skipped (a missing number is zeros: XAPI leaves out all-zero chunks, and
 * its keep-alive chunks are empty). The disk is reassembled into a sparse raw
 * file of the VDI's virtual_size, each chunk verified before it is written.
 *
 * Refused with INTERCHANGE_INVALID before anything is written: a member that
 * is not `ova.xml` or a chunk or checksum of a VDI the descriptor names
 * (names that escape are already refused by the tar reader), a chunk over
 * 1 MiB, chunks that run past the virtual size, a checksum without its chunk;
 * a digest that differs is CHECKSUM_MISMATCH naming the chunk, and the raw
 * file is removed.
 */
import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { fail } from '../shared/index.js';
import { readMember, type TarMember } from './tar-read.js';
import { xxh64Hex } from './xxhash64.js';

export const XVA_CHUNK = 1024 * 1024;

export interface XvaChunk {
  index: number;
  member: TarMember;
  /** Where its bytes go in the disk. */
  offset: number;
  digest?: { algorithm: 'sha1' | 'xxhash'; member: TarMember };
}

export interface XvaDiskLayout {
  ref: string;
  size: number;
  chunks: XvaChunk[];
  /** Bytes of chunk data (what is read). */
  bytes: number;
  /** Chunks without a checksum beside them. */
  unverified: number;
}

const CHUNK_NAME = /^(\d{8})(\.checksum|\.xxhash)?$/;

/**
 * Sorts the XVA's members into the disks `sizes` names (VDI id → virtual size). Every member must be
 * `ova.xml`, a folder of a named VDI, or one of its chunks or checksums. Pure.
 */
export function xvaLayout(file: string, members: TarMember[], sizes: ReadonlyMap<string, number>): XvaDiskLayout[] {
  const byRef = new Map<string, Map<number, { data?: TarMember; digest?: XvaChunk['digest'] }>>();
  for (const ref of sizes.keys()) byRef.set(ref, new Map());
  for (const m of members) {
    if (m.name === 'ova.xml') continue;
    const slash = m.name.indexOf('/');
    const ref = slash < 0 ? m.name : m.name.slice(0, slash);
    const chunks = byRef.get(ref);
    if (chunks === undefined) fail('INTERCHANGE_INVALID', `${file}: the member ${JSON.stringify(m.name)} belongs to no disk of ova.xml (an XVA holds ova.xml and a Ref:N/ folder of chunks per disk)`);
    if (slash < 0) {
      if (m.size !== 0) fail('INTERCHANGE_INVALID', `${file}: ${m.name} is a file where the disk's chunk folder belongs`);
      continue;
    }
    const c = CHUNK_NAME.exec(m.name.slice(slash + 1));
    if (!c) fail('INTERCHANGE_INVALID', `${file}: ${JSON.stringify(m.name)} is not a chunk (NNNNNNNN, NNNNNNNN.checksum or NNNNNNNN.xxhash)`);
    const index = Number(c[1]);
    const entry = chunks.get(index) ?? {};
    if (c[2] === undefined) {
      if (m.size > XVA_CHUNK) fail('INTERCHANGE_INVALID', `${file}: the chunk ${m.name} is ${m.size} bytes; chunks are at most 1 MiB`);
      entry.data = m;
    } else {
      if (entry.digest !== undefined) fail('INTERCHANGE_INVALID', `${file}: the chunk ${ref}/${c[1]} has two checksums`);
      if (m.size > 128) fail('INTERCHANGE_INVALID', `${file}: the checksum ${m.name} is ${m.size} bytes`);
      entry.digest = { algorithm: c[2] === '.checksum' ? 'sha1' : 'xxhash', member: m };
    }
    chunks.set(index, entry);
  }
  return [...sizes].map(([ref, size]) => {
    const entries = [...byRef.get(ref)!].sort((a, b) => a[0] - b[0]);
    const chunks: XvaChunk[] = [];
    let end = 0;
    let last = -1;
    let bytes = 0;
    let unverified = 0;
    for (const [index, e] of entries) {
      if (e.data === undefined) fail('INTERCHANGE_INVALID', `${file}: ${e.digest!.member.name} is a checksum without its chunk`);
      const offset = end + (index - last - 1) * XVA_CHUNK;
      if (!Number.isSafeInteger(offset) || offset + e.data.size > size) {
        fail('INTERCHANGE_INVALID', `${file}: the chunk ${e.data.name} lands at byte ${offset} and runs past the disk's virtual size of ${size} bytes`);
      }
      chunks.push({ index, member: e.data, offset, ...(e.digest ? { digest: e.digest } : {}) });
      end = offset + e.data.size;
      last = index;
      bytes += e.data.size;
      if (e.digest === undefined) unverified++;
    }
    return { ref, size, chunks, bytes, unverified };
  });
}

const isZero = (b: Buffer): boolean => b.every((x) => x === 0);

/**
 * Writes one disk of the XVA at `file` as a sparse raw file at `out` (created new), each chunk checked against its digest first.
 * On any failure the file is removed.
 */
export async function reassembleXvaDisk(file: string, d: XvaDiskLayout, out: string, o: { signal?: AbortSignal; onBytes?: (n: number) => void } = {}): Promise<void> {
  const fh = await open(out, 'wx', 0o600);
  let ok = false;
  try {
    await fh.truncate(d.size);
    let done = 0;
    for (const c of d.chunks) {
      o.signal?.throwIfAborted();
      const data = await readMember(file, c.member, XVA_CHUNK);
      if (c.digest !== undefined) {
        const want = (await readMember(file, c.digest.member, 128)).toString('latin1').trim().toLowerCase();
        const got = c.digest.algorithm === 'sha1' ? createHash('sha1').update(data).digest('hex') : xxh64Hex(data).toLowerCase();
        if (got !== want) fail('CHECKSUM_MISMATCH', `${path.basename(file)}: the chunk ${c.member.name} does not match its ${c.digest.algorithm === 'sha1' ? 'SHA-1' : 'XXH64'} checksum (${got}, the XVA says ${want}); nothing was imported`);
      }
      if (data.length > 0 && !isZero(data)) await fh.write(data, 0, data.length, c.offset);
      done += data.length;
      o.onBytes?.(done);
    }
    await fh.sync();
    ok = true;
  } finally {
    await fh.close();
    if (!ok) await rm(out, { force: true });
  }
}
