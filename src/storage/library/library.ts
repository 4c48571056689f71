/**
 * The image library: ISOs and disk images, each `<dir>/<name>.<ext>` with its
 * record `<dir>/<name>.json` written last. An image enters only after its
 * checksum matched and it passed inspection; until then it lives under a
 * temp name (a local copy) or in the download cache (a download, kept there
 * after an interruption so the next import resumes it).
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fail, safeJoin, silentLogger, validateAbsolutePath, validateName, writeFileAtomic, type Logger } from '../../shared/index.js';
import { KeyedMutex } from '../mutex.js';
import { writeViaTemp } from '../temp-output.js';
import { findInSumsFile, hashFile, parseChecksum, type Checksum } from './checksum.js';
import { discardPartial, downloadResumable } from './download.js';
import { fetchText, parseDownloadUrl } from './http-get.js';
import { inspectImage, type ImageKind } from './inspect.js';

export interface LibraryImage {
  name: string;
  kind: ImageKind;
  /** qemu-img format ("raw" for an ISO). */
  format: string;
  path: string;
  sizeBytes: number;
  virtualSize: number;
  checksum: Checksum;
  /** False only when imported with the explicit no-checksum override. */
  verified: boolean;
  source: string;
  importedAt: string;
}

export interface ImportRequest {
  name: string;
  /** Exactly one of url or path. */
  url?: string;
  path?: string;
  /** "sha256:HEX", "sha512:HEX" or bare hex. */
  checksum?: string;
  /** A SHA256SUMS-style file listing the image. */
  checksumUrl?: string;
  /** Skip verification (logged as a warning; the record says verified: false). */
  insecureNoChecksum?: boolean;
  kind?: ImageKind;
}

export interface ImportProgress {
  phase: 'download' | 'copy' | 'verify' | 'inspect';
  doneBytes: number;
  totalBytes?: number;
}

export interface ImportOptions {
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
  /** Automatic resumes of an interrupted download (default 3). */
  retries?: number;
}

export class ImageLibrary {
  private readonly log: Logger;
  private readonly lock = new KeyedMutex();

  constructor(private readonly o: { dir: string; downloadsDir: string; logger?: Logger }) {
    this.log = (o.logger ?? silentLogger).child({ component: 'library' });
  }

  async list(): Promise<LibraryImage[]> {
    await mkdir(this.o.dir, { recursive: true, mode: 0o750 });
    const names = (await readdir(this.o.dir)).filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort();
    const out: LibraryImage[] = [];
    for (const f of names) {
      const rec = await this.read(f.slice(0, -5));
      if (rec) out.push(rec);
    }
    return out;
  }

  async get(name: string): Promise<LibraryImage> {
    validateName(name, 'image name');
    const rec = await this.read(name);
    if (!rec) fail('IMAGE_NOT_FOUND', `the library has no image named ${name}`);
    return rec;
  }

  async remove(name: string): Promise<void> {
    const rec = await this.get(name);
    await rm(safeJoin(this.o.dir, `${name}.json`), { force: true });
    await rm(rec.path, { force: true });
    this.log.info({ image: name }, 'image removed');
  }

  async import(req: ImportRequest, o: ImportOptions = {}): Promise<LibraryImage> {
    validateName(req.name, 'image name');
    return this.lock.run(req.name, () => this.importNow(req, o));
  }

  private async importNow(req: ImportRequest, o: ImportOptions): Promise<LibraryImage> {
    await mkdir(this.o.dir, { recursive: true, mode: 0o750 });
    if (await this.read(req.name)) fail('IMAGE_EXISTS', `the library already has an image named ${req.name}`);
    if ((req.url === undefined) === (req.path === undefined)) fail('INVALID_ARGUMENT', 'give exactly one of url or path');
    const source = req.url ?? validateAbsolutePath(req.path, 'image path');
    const expected = await this.expectedChecksum(req, source);
    const staged = req.url !== undefined ? await this.download(req.url, o) : await this.copyIn(req.name, source, o);
    try {
      const checksum = await this.verify(staged, expected, o);
      o.onProgress?.({ phase: 'inspect', doneBytes: 0 });
      const ins = await inspectImage(staged.file, req.kind, { ...(o.signal ? { signal: o.signal } : {}) });
      const ext = ins.kind === 'iso' ? 'iso' : ins.format;
      const dest = safeJoin(this.o.dir, `${req.name}.${ext}`);
      await rm(dest, { force: true }); // an orphan of a crash between file and record
      await writeViaTemp(dest, {}, async (tmp) => rename(staged.file, tmp).catch(() => copyFile(staged.file, tmp)));
      const rec: LibraryImage = {
        name: req.name, kind: ins.kind, format: ins.format, path: dest, sizeBytes: (await stat(dest)).size, virtualSize: ins.virtualSize,
        checksum, verified: expected !== undefined, source, importedAt: new Date().toISOString(),
      };
      await writeFileAtomic(safeJoin(this.o.dir, `${req.name}.json`), JSON.stringify(rec, null, 2) + '\n', 0o640);
      this.log.info({ image: req.name, kind: rec.kind, format: rec.format, source, verified: rec.verified }, 'image imported');
      return rec;
    } finally {
      await staged.discard();
    }
  }

  private async expectedChecksum(req: ImportRequest, source: string): Promise<Checksum | undefined> {
    if (req.checksum !== undefined) return parseChecksum(req.checksum);
    if (req.checksumUrl !== undefined) {
      const sums = await fetchText(parseDownloadUrl(req.checksumUrl));
      const file = req.url !== undefined ? path.posix.basename(parseDownloadUrl(req.url).pathname) : path.basename(source);
      const hit = findInSumsFile(sums, decodeURIComponent(file));
      if (!hit) fail('CHECKSUM_REQUIRED', `${req.checksumUrl} does not list ${file}`);
      return hit;
    }
    if (!req.insecureNoChecksum) fail('CHECKSUM_REQUIRED', `importing ${source} needs a checksum`);
    this.log.warn({ image: req.name, source }, 'importing WITHOUT checksum verification (explicit override)');
    return undefined;
  }

  private async verify(staged: Staged, expected: Checksum | undefined, o: ImportOptions): Promise<Checksum> {
    const algorithm = expected?.algorithm ?? 'sha256';
    const total = (await stat(staged.file)).size;
    const hex = await hashFile(staged.file, algorithm, (n) => o.onProgress?.({ phase: 'verify', doneBytes: n, totalBytes: total }), o.signal);
    if (expected && hex !== expected.hex) {
      await staged.discard();
      fail('CHECKSUM_MISMATCH', `${algorithm} of the image is ${hex}, expected ${expected.hex}`);
    }
    return { algorithm, hex };
  }

  private async download(url: string, o: ImportOptions): Promise<Staged> {
    const u = parseDownloadUrl(url);
    await mkdir(this.o.downloadsDir, { recursive: true, mode: 0o750 });
    const partial = path.join(this.o.downloadsDir, `${createHash('sha256').update(u.href).digest('hex').slice(0, 24)}.part`);
    const r = await downloadResumable(u, partial, {
      logger: this.log, ...(o.signal ? { signal: o.signal } : {}), ...(o.retries !== undefined ? { retries: o.retries } : {}),
      onProgress: (doneBytes, totalBytes) => o.onProgress?.({ phase: 'download', doneBytes, ...(totalBytes !== undefined ? { totalBytes } : {}) }),
    });
    if (r.resumedFrom > 0) this.log.info({ url: u.href, resumedFrom: r.resumedFrom, bytes: r.bytes }, 'download resumed');
    // Kept after an interruption (resume); gone once it entered the library or proved bad.
    return { file: partial, discard: () => discardPartial(partial) };
  }

  private async copyIn(name: string, source: string, o: ImportOptions): Promise<Staged> {
    const st = await stat(source).catch(() => undefined);
    if (!st?.isFile()) fail('FILE_NOT_FOUND', `${source} does not exist or is not a regular file`);
    const tmp = safeJoin(this.o.dir, `.${name}.import.tmp`);
    o.onProgress?.({ phase: 'copy', doneBytes: 0, totalBytes: st.size });
    await copyFile(source, tmp);
    o.onProgress?.({ phase: 'copy', doneBytes: st.size, totalBytes: st.size });
    return { file: tmp, discard: () => rm(tmp, { force: true }) };
  }

  private async read(name: string): Promise<LibraryImage | undefined> {
    try {
      return JSON.parse(await readFile(safeJoin(this.o.dir, `${name}.json`), 'utf8')) as LibraryImage;
    } catch {
      return undefined;
    }
  }
}

interface Staged {
  file: string;
  discard(): Promise<void>;
}
