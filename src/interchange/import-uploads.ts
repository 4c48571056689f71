/**
 * Files uploaded for import (`POST /v1/import/upload`, the web UI's file
 * picker): each is streamed into its own new folder under the daemon's state
 * (`uploads/ID/NAME`), counted as it arrives and cut off past the cap, then
 * imported through the same dry-run and plan flow as a path on the host
 * (`POST /v1/imports {path}`). A partial upload is removed; an upload is
 * removed after the real import that used it, and any left a day after
 * (`sweep`, run at each upload).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fail, PolyvisorError } from '../shared/index.js';

/** An upload's file name: a plain name with a format's extension. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,120}\.(ova|xva|xva\.gz|ovf|vmx|vbox|xml|conf|ps1)$/i;
const DAY_MS = 24 * 3600_000;

export interface ImportUpload {
  id: string;
  file: string;
  /** Where the daemon keeps it: give it as `path` to POST /v1/imports. */
  path: string;
  bytes: number;
  sha256: string;
}

export class ImportUploads {
  constructor(readonly dir: string, readonly maxBytes = 64 * 1024 ** 3) {}

  /** Streams `body` into a new upload; past `maxBytes`, or on any failure, nothing is kept. */
  async save(name: string, body: Readable, signal?: AbortSignal): Promise<ImportUpload> {
    if (!NAME.test(name) || name.includes('..')) fail('INVALID_ARGUMENT', `filename ${JSON.stringify(name.slice(0, 130))}: give the file's own name with its extension (.ova .xva .xva.gz .ovf .vmx .vbox .xml .conf .ps1), no folders`);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.sweep();
    const id = randomBytes(12).toString('hex');
    const folder = path.join(this.dir, id);
    await mkdir(folder, { mode: 0o700 });
    const file = path.join(folder, name);
    const hash = createHash('sha256');
    let bytes = 0;
    const max = this.maxBytes;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > max) return done(new PolyvisorError('BODY_TOO_LARGE', `the upload passed ${max} bytes, the most an import upload may have (copy the file to the daemon's host and import its path instead)`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, count, createWriteStream(file, { flags: 'wx', mode: 0o600 }), ...(signal ? [{ signal }] : []));
    } catch (err) {
      await rm(folder, { recursive: true, force: true });
      throw err;
    }
    if (bytes === 0) {
      await rm(folder, { recursive: true, force: true });
      fail('INVALID_ARGUMENT', 'the upload is empty: send the file as the request body (application/octet-stream)');
    }
    return { id, file: name, path: file, bytes, sha256: hash.digest('hex') };
  }

  /** Whether `p` is a file of an upload. */
  holds(p: string): boolean {
    const rel = path.relative(this.dir, p);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) && rel.split(path.sep).length === 2;
  }

  /** Removes the upload `p` belongs to. */
  async remove(p: string): Promise<void> {
    if (this.holds(p)) await rm(path.dirname(p), { recursive: true, force: true });
  }

  /** Removes uploads older than a day (imported elsewhere, or abandoned after a dry run). */
  async sweep(now = Date.now()): Promise<void> {
    for (const id of await readdir(this.dir).catch(() => [] as string[])) {
      const st = await stat(path.join(this.dir, id)).catch(() => undefined);
      if (st !== undefined && now - st.mtimeMs > DAY_MS) await rm(path.join(this.dir, id), { recursive: true, force: true });
    }
  }
}
