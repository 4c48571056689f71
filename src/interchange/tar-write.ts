/**
 * Writes an OVA: a ustar archive of files in the order given (the caller puts
 * the OVF descriptor first, then the manifest, then the disks — the order
 * VMware's tools require, since they read an OVA as a stream). Output is
 * reproducible: mode 0644, uid/gid 0, no user or group names, mtime 0. A name
 * past 100 bytes or a size past ustar's 8 GiB goes in a pax extended header.
 * Files are streamed, never buffered; the SHA-256 of the archive is computed
 * as it is written.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { once } from 'node:events';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const BLOCK = 512;
const USTAR_MAX_SIZE = 8 ** 11 - 1;

export interface TarInputFile {
  /** Name inside the archive (relative, `/` separators). */
  name: string;
  /** Path of the file to copy in. */
  path: string;
}

function octal(buf: Buffer, start: number, len: number, value: number): void {
  buf.write(value.toString(8).padStart(len - 1, '0') + '\0', start, len, 'latin1');
}

/** One ustar header block (pure). */
export function tarHeader(name: string, size: number, type: '0' | 'x' = '0'): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size > USTAR_MAX_SIZE ? 0 : size);
  octal(h, 136, 12, 0);
  h.fill(0x20, 148, 156);
  h.write(type, 156, 1, 'latin1');
  h.write('ustar\0', 257, 6, 'latin1');
  h.write('00', 263, 2, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return h;
}

/** A pax record `LEN key=value\n`, LEN counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len++;
  return `${len}${body}`;
}

/** The header blocks of one member: a pax header first when the name or size do not fit ustar (pure). */
export function memberHeaders(name: string, size: number): Buffer {
  const records = [
    ...(Buffer.byteLength(name) > 100 ? [paxRecord('path', name)] : []),
    ...(size > USTAR_MAX_SIZE ? [paxRecord('size', String(size))] : []),
  ].join('');
  const main = tarHeader(Buffer.byteLength(name) > 100 ? name.slice(0, 90) : name, size);
  if (records === '') return main;
  const data = Buffer.from(records, 'utf8');
  return Buffer.concat([tarHeader('PaxHeader', data.length, 'x'), data, padding(data.length), main]);
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** Writes `out` (which must not exist) from `files` in order; answers the archive's SHA-256 and size. */
export async function writeTar(out: string, files: TarInputFile[], o: { signal?: AbortSignal; onBytes?: (done: number) => void } = {}): Promise<{ sha256: string; bytes: number }> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(f.path)).size));
  const hash = createHash('sha256');
  const sink = createWriteStream(out, { flags: 'wx', mode: 0o644 });
  let bytes = 0;
  const put = async (buf: Buffer): Promise<void> => {
    hash.update(buf);
    bytes += buf.length;
    if (!sink.write(buf)) await once(sink, 'drain');
  };
  try {
    for (const [i, f] of files.entries()) {
      o.signal?.throwIfAborted();
      const size = sizes[i]!;
      await put(memberHeaders(f.name, size));
      let copied = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          copied += chunk.length;
          bytes += chunk.length;
          hash.update(chunk);
          o.onBytes?.(bytes);
          cb(null, chunk);
        },
      });
      if (size > 0) {
        const src = createReadStream(f.path, { start: 0, end: size - 1, highWaterMark: 1024 * 1024 });
        await (o.signal ? pipeline(src, tap, sink, { end: false, signal: o.signal }) : pipeline(src, tap, sink, { end: false }));
      }
      if (copied !== size) throw new Error(`${f.path} changed size while it was written into ${out}`);
      await put(padding(size));
    }
    await put(Buffer.alloc(2 * BLOCK));
    sink.end();
    await once(sink, 'finish');
  } catch (err) {
    sink.destroy();
    throw err;
  }
  return { sha256: hash.digest('hex'), bytes };
}
