/**
 * A gzip-compressed XVA (`.xva.gz`, what XenCenter and `xe vm-export
 * compress=true` write) is stream-decompressed once into the import's private
 * folder, then opened as any XVA: the same safe tar listing, layout rules and
 * chunk checksums apply to the tar inside. A gzip bomb cannot fill the host:
 * decompression stops (INTERCHANGE_INVALID, the partial file removed) when
 * it would leave less than GUNZIP_RESERVE_BYTES free on the folder's file
 * system; a corrupt or truncated stream is INTERCHANGE_INVALID too.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { fail, isPolyvisorError, PolyvisorError } from '../shared/index.js';

/** Free space left on the work folder's file system, whatever the archive says. */
export const GUNZIP_RESERVE_BYTES = 1024 ** 3;

/** True for a path this module decompresses. */
export const isGzippedXva = (file: string): boolean => /\.xva\.gz$/i.test(file);

/** Decompresses `file` into `dir/NAME.xva` (a new file); answers its path. `maxBytes` defaults to the free space less the reserve. */
export async function gunzipXva(file: string, dir: string, o: { signal?: AbortSignal; maxBytes?: number } = {}): Promise<string> {
  const out = path.join(dir, path.basename(file).replace(/\.gz$/i, ''));
  const fs = await statfs(dir);
  const cap = o.maxBytes ?? Math.max(0, fs.bavail * fs.bsize - GUNZIP_RESERVE_BYTES);
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > cap) cb(new PolyvisorError('INTERCHANGE_INVALID', `${path.basename(file)} decompresses to more than ${cap} bytes, past the free space of its work folder (less ${GUNZIP_RESERVE_BYTES} bytes kept free); refused`));
      else cb(null, chunk);
    },
  });
  const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
  const sink = createWriteStream(out, { flags: 'wx', mode: 0o600 });
  try {
    await (o.signal ? pipeline(source, createGunzip(), count, sink, { signal: o.signal }) : pipeline(source, createGunzip(), count, sink));
  } catch (err) {
    if (isPolyvisorError(err)) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code?.startsWith('Z_') === true || e.code === 'ERR_STREAM_PREMATURE_CLOSE') fail('INTERCHANGE_INVALID', `${path.basename(file)} is not a whole gzip stream (${e.message}); nothing was imported`);
    throw err;
  }
  return out;
}
