import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isPolyvisorError, runChecked } from '../../shared/index.js';
import { ImageLibrary } from './library.js';

const MiB = 1024 ** 2;
let dir: string;
let lib: ImageLibrary;
let disk: Buffer; // a qcow2 image's bytes
let iso: Buffer;
let server: http.Server;
let base: string;
const ranges: string[] = [];
let cutOnce = true;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (isPolyvisorError(e) ? e.code : e));
const files = async () => (await readdir(path.join(dir, 'library')).catch(() => [])).sort();

beforeAll(async () => {
  const work = await mkdtemp(path.join(tmpdir(), 'pv-libsrc-'));
  await writeFile(path.join(work, 'raw'), randomBytes(4 * MiB));
  await runChecked('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', path.join(work, 'raw'), path.join(work, 'd.qcow2')], { timeoutMs: 30_000, failCode: 'INTERNAL' });
  disk = await readFile(path.join(work, 'd.qcow2'));
  await mkdir(path.join(work, 'isodir'));
  await writeFile(path.join(work, 'isodir', 'hello.txt'), 'hello');
  await runChecked('xorriso', ['-as', 'mkisofs', '-quiet', '-o', path.join(work, 'x.iso'), '-V', 'TEST', path.join(work, 'isodir')], { timeoutMs: 30_000, failCode: 'INTERNAL' });
  iso = await readFile(path.join(work, 'x.iso'));
  await rm(work, { recursive: true, force: true });
  server = http.createServer((req, res) => {
    const body = req.url!.startsWith('/iso') ? iso : disk;
    if (req.url === '/SHA256SUMS') {
      res.end(`${sha256(iso)}  debian.iso\n${sha256(disk)} *disk.qcow2\n`);
      return;
    }
    const range = req.headers.range;
    if (range) ranges.push(range);
    const start = range ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    res.writeHead(range ? 206 : 200, {
      'content-length': String(body.length - start),
      etag: '"v1"',
      ...(range ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (req.url === '/cut/disk.qcow2' && cutOnce && !range) {
      cutOnce = false;
      res.write(body.subarray(0, body.length / 2), () => res.destroy()); // connection dies halfway
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-lib-'));
  lib = new ImageLibrary({ dir: path.join(dir, 'library'), downloadsDir: path.join(dir, 'cache', 'downloads') });
  ranges.length = 0;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('image library over HTTP', () => {
  it('imports a disk image with a good checksum, with progress, and validates it', async () => {
    const phases = new Set<string>();
    const img = await lib.import({ name: 'd', url: `${base}/disk.qcow2`, checksum: `sha256:${sha256(disk)}` }, { onProgress: (p) => phases.add(p.phase) });
    expect(img).toMatchObject({ name: 'd', kind: 'disk', format: 'qcow2', verified: true, virtualSize: 4 * MiB, sizeBytes: disk.length });
    expect(img.checksum).toEqual({ algorithm: 'sha256', hex: sha256(disk) });
    expect([...phases]).toEqual(['download', 'verify', 'inspect']);
    expect(await files()).toEqual(['d.json', 'd.qcow2']);
    expect((await lib.list()).map((i) => i.name)).toEqual(['d']);
    expect(await codeOf(lib.import({ name: 'd', url: `${base}/disk.qcow2`, checksum: sha256(disk) }))).toBe('IMAGE_EXISTS');
  });

  it('accepts sha512 and a SHA256SUMS file; recognises ISOs', async () => {
    const s512 = createHash('sha512').update(disk).digest('hex');
    expect((await lib.import({ name: 'a', url: `${base}/disk.qcow2`, checksum: s512 })).checksum.algorithm).toBe('sha512');
    const i = await lib.import({ name: 'inst', url: `${base}/iso/debian.iso`, checksumUrl: `${base}/SHA256SUMS` });
    expect(i).toMatchObject({ kind: 'iso', format: 'raw', verified: true });
    expect(i.path.endsWith('/inst.iso')).toBe(true);
    expect(await codeOf(lib.import({ name: 'b', url: `${base}/other.qcow2`, checksumUrl: `${base}/SHA256SUMS` }))).toBe('CHECKSUM_REQUIRED');
  });

  it('refuses a bad checksum and keeps nothing', async () => {
    const err = await lib.import({ name: 'bad', url: `${base}/disk.qcow2`, checksum: 'ab'.repeat(32) }).catch((e: unknown) => e);
    expect(isPolyvisorError(err, 'CHECKSUM_MISMATCH')).toBe(true);
    expect((err as Error).message).toContain(sha256(disk));
    expect(await files()).toEqual([]);
    expect(await readdir(path.join(dir, 'cache', 'downloads'))).toEqual([]);
  });

  it('wants a checksum unless explicitly overridden', async () => {
    expect(await codeOf(lib.import({ name: 'n', url: `${base}/disk.qcow2` }))).toBe('CHECKSUM_REQUIRED');
    expect(await files()).toEqual([]);
    const img = await lib.import({ name: 'n', url: `${base}/disk.qcow2`, insecureNoChecksum: true });
    expect(img.verified).toBe(false);
  });

  it('resumes a download the server cut halfway (Range), then verifies the whole', async () => {
    cutOnce = true;
    const err = await lib.import({ name: 'r', url: `${base}/cut/disk.qcow2`, checksum: sha256(disk) }, { retries: 0 }).catch((e: unknown) => e);
    expect(isPolyvisorError(err, 'DOWNLOAD_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/interrupted after \d+ of \d+ bytes/);
    expect(await files()).toEqual([]); // nothing in the library
    const img = await lib.import({ name: 'r', url: `${base}/cut/disk.qcow2`, checksum: sha256(disk) });
    expect(img.verified).toBe(true);
    expect(ranges).toHaveLength(1);
    expect(Number(/bytes=(\d+)-/.exec(ranges[0]!)![1])).toBeGreaterThan(0);
    expect(await readdir(path.join(dir, 'cache', 'downloads'))).toEqual([]);
  });

  it('resumes automatically within one import', async () => {
    cutOnce = true;
    const img = await lib.import({ name: 'auto', url: `${base}/cut/disk.qcow2`, checksum: sha256(disk) });
    expect(img.sizeBytes).toBe(disk.length);
    expect(ranges).toHaveLength(1);
  });

  it('names the problem when nothing listens, or the server says 404', async () => {
    const err = await lib.import({ name: 'x', url: 'http://127.0.0.1:9/disk.qcow2', checksum: sha256(disk) }).catch((e: unknown) => e);
    expect(isPolyvisorError(err, 'DOWNLOAD_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/127\.0\.0\.1:9.*connection refused/);
    expect(await codeOf(lib.import({ name: 'x', url: 'ftp://x/y', checksum: sha256(disk) }))).toBe('INVALID_ARGUMENT');
    expect(await files()).toEqual([]);
  });
});

describe('image library from local files', () => {
  it('imports a local file, and refuses a non-image or a fake ISO', async () => {
    const f = path.join(dir, 'd.qcow2');
    await writeFile(f, disk);
    expect((await lib.import({ name: 'loc', path: f, checksum: sha256(disk) })).format).toBe('qcow2');
    const txt = path.join(dir, 'notes.txt');
    await writeFile(txt, 'not a disk');
    expect(await codeOf(lib.import({ name: 't', path: txt, checksum: sha256(Buffer.from('not a disk')) }))).toBe('IMAGE_INVALID');
    expect(await codeOf(lib.import({ name: 't', path: f, checksum: sha256(disk), kind: 'iso' }))).toBe('IMAGE_INVALID');
    expect(await codeOf(lib.import({ name: 't', path: path.join(dir, 'absent'), checksum: sha256(disk) }))).toBe('FILE_NOT_FOUND');
    expect(await codeOf(lib.import({ name: 't', path: '/etc/../etc/passwd', checksum: sha256(disk) }))).toBe('INVALID_PATH');
    expect(await files()).toEqual(['loc.json', 'loc.qcow2']);
  });
});
