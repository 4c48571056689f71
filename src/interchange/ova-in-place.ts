/**
 * An OVA's disks read where they lie in the package, not extracted (as
 * virt-v2v reads OVAs): qemu-img opens a member through qemu's raw driver at
 * the member's offset and size (storage's image regions), the offsets coming
 * from our own safe tar listing (regular files only, inside the archive). A
 * member is hashed for the manifest by reading the same byte range, while
 * qemu-img converts it (`alongside`): the import's one pass over the data
 * besides the conversion, and no second copy of the disk on the host.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { anySignal, fail } from '../shared/index.js';
import { imageInfo, refuseOutsideReferences } from '../storage/index.js';
import type { Digests } from './tar-extract.js';
import type { TarMember } from './tar-read.js';
import type { DiskFileFormat, ManifestEntry } from './types.js';

/** The digests in `algorithms` of the member `m` of `archive`, read once. */
export async function memberDigests(archive: string, m: TarMember, algorithms: ReadonlyArray<ManifestEntry['algorithm']>, signal?: AbortSignal): Promise<Digests> {
  const hashes: Array<[ManifestEntry['algorithm'], Hash]> = [...new Set(algorithms)].map((a) => [a, createHash(a)]);
  let got = 0;
  if (m.size > 0) {
    const stream = createReadStream(archive, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1024 * 1024, ...(signal ? { signal } : {}) });
    for await (const chunk of stream) {
      got += (chunk as Buffer).length;
      for (const [, h] of hashes) h.update(chunk as Buffer);
    }
  }
  if (got !== m.size) fail('INTERCHANGE_INVALID', `${archive}: truncated: the member ${m.name} gave ${got} of its ${m.size} bytes`);
  return Object.fromEntries(hashes.map(([a, h]) => [a, h.digest('hex')]));
}

/**
 * The byte range qemu reads a member through. qemu's raw driver takes sizes in
 * whole 512-byte sectors, so the size is rounded up into the member's tar
 * padding (inside the archive: the safe listing found the next header after
 * it); qemu sees a file of that length too when the member is extracted, as
 * it rounds image lengths up to a sector.
 */
export function memberRegion(m: TarMember): { offset: number; size: number } {
  return { offset: m.offset, size: Math.ceil(m.size / 512) * 512 };
}

/** qcow2's incompatible feature bit 2: the guest's data lives in another file the header names (any host file). */
const QCOW2_EXTERNAL_DATA = 1n << 2n;

/** True when `header` (the first 80 bytes or more of an image) is a qcow2 v3 whose data sits in an external file. */
export function qcow2HasDataFile(header: Buffer): boolean {
  if (header.length < 80 || header.readUInt32BE(0) !== 0x514649fb || header.readUInt32BE(4) < 3) return false;
  return (header.readBigUInt64BE(72) & QCOW2_EXTERNAL_DATA) !== 0n;
}

/**
 * Probes the disk member `m` of `archive` in place: its format must be the one
 * the descriptor names (qcow2 and raw are read as declared, never guessed), it
 * may read no other file (no backing file, no qcow2 external data file, no
 * VMDK extent elsewhere: a descriptor-only VMDK cannot be read in place and is
 * refused). Answers the virtual size.
 */
export async function probeMember(archive: string, m: TarMember, format: DiskFileFormat, signal?: AbortSignal): Promise<number> {
  const label = `${path.basename(archive)}: ${m.name}`;
  const fh = await open(archive, 'r');
  try {
    const header = Buffer.alloc(Math.min(512, m.size));
    await fh.read(header, 0, header.length, m.offset);
    if (qcow2HasDataFile(header)) fail('IMAGE_INVALID', `${label} is a qcow2 that keeps its data in an external file; convert it to a plain qcow2 (qemu-img convert -O qcow2) and import that`);
  } finally {
    await fh.close();
  }
  const declared = format === 'raw' || format === 'qcow2';
  const info = await imageInfo(archive, { region: { ...memberRegion(m), ...(declared ? { format } : {}) }, ...(signal ? { signal } : {}) });
  if (!declared && info.format !== format) fail('IMAGE_INVALID', `${label} was named as ${format} but is ${info.format}`);
  refuseOutsideReferences(label, { backingFile: info.backingFile, extentFiles: [] });
  // A monolithic image's only extent is the member itself (qemu names it by the region's json: filename).
  const foreign = [...new Set(info.extentFiles.filter((e) => !e.startsWith('json:')))];
  if (foreign.length > 0) fail('IMAGE_INVALID', `${label} is a descriptor whose extents read other files (${foreign.join(', ')}); an OVA's disk is one file (streamOptimized or monolithicSparse VMDK)`);
  return info.virtualSize;
}

/**
 * Runs `a` and `b` together under one signal; the first to fail aborts the
 * other and its error is the one thrown (a manifest mismatch found while the
 * disk converts stops qemu-img and is reported as such, not as "aborted").
 */
export async function alongside(signal: AbortSignal, a: (s: AbortSignal) => Promise<unknown>, b: (s: AbortSignal) => Promise<unknown>): Promise<void> {
  const stop = new AbortController();
  const both = anySignal([signal, stop.signal]);
  let first: { err: unknown } | undefined;
  const run = (f: (s: AbortSignal) => Promise<unknown>): Promise<unknown> => f(both).catch((err: unknown) => {
    first ??= { err };
    stop.abort(err);
    throw err;
  });
  await Promise.allSettled([run(a), run(b)]);
  if (first !== undefined) throw first.err;
}
