import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPolyvisorError, runChecked } from '../shared/index.js';
import { checkImage, createImage, imageInfo } from './index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-qimg-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const MiB = 1024 ** 2;
const p = (name: string) => path.join(dir, name);
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'no error',
    (e: unknown) => (isPolyvisorError(e) ? e.code : e),
  );
const tempFiles = async (d = dir) => (await readdir(d)).filter((f) => f.endsWith('.tmp'));

/** Sets the 16-bit refcount of qcow2 cluster `index` (fresh image: one refcount block). */
async function patchRefcount(file: string, index: number, value: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    const header = Buffer.alloc(104);
    await fh.read(header, 0, 104, 0);
    const table = Buffer.alloc(8);
    await fh.read(table, 0, 8, Number(header.readBigUInt64BE(48)));
    const entry = Buffer.alloc(2);
    entry.writeUInt16BE(value);
    await fh.write(entry, 0, 2, Number(table.readBigUInt64BE(0)) + 2 * index);
  } finally {
    await fh.close();
  }
}

describe('createImage and imageInfo', () => {
  it.each([
    ['qcow2', 64 * MiB],
    ['raw', 3 * MiB],
  ] as const)('creates a %s image of the given size', async (format, size) => {
    const file = p(`disk.${format}`);
    await createImage(file, format, size);
    const info = await imageInfo(file);
    expect(info).toMatchObject({ format, virtualSize: size, dirty: false, corrupt: false, encrypted: false });
    expect(info.backingFile).toBeUndefined();
    expect(info.actualSize).toBeGreaterThan(0);
    expect(await tempFiles()).toEqual([]);
  });

  it('refuses to overwrite an existing file', async () => {
    await writeFile(p('taken.qcow2'), 'precious');
    expect(await codeOf(createImage(p('taken.qcow2'), 'qcow2', MiB))).toBe('DISK_CREATE_FAILED');
    expect(await readFile(p('taken.qcow2'), 'utf8')).toBe('precious');
    expect(await tempFiles()).toEqual([]);
  });

  it('fails cleanly where it cannot write and on bad arguments', async () => {
    expect(await codeOf(createImage(p('no/such/dir/d.qcow2'), 'qcow2', MiB))).toBe('DISK_CREATE_FAILED');
    expect(await codeOf(createImage(p('d.qcow2'), 'qcow2', 0))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(createImage(p('d.qcow2'), 'qcow2', 1.5))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(createImage(p('d.vmdk'), 'vmdk' as never, MiB))).toBe('INVALID_ARGUMENT');
    // qemu-img itself refuses: a size past what qcow2 can address.
    const err = await createImage(p('huge.qcow2'), 'qcow2', 2 ** 52).catch((e: unknown) => e);
    expect(isPolyvisorError(err, 'DISK_CREATE_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/qemu-img|size|large/i);
    expect(await readdir(dir)).toEqual([]);
  });

  it('reports backing files', async () => {
    await createImage(p('base.qcow2'), 'qcow2', 8 * MiB);
    await runChecked('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', p('base.qcow2'), '-F', 'qcow2', p('top.qcow2')], {
      timeoutMs: 10_000,
      failCode: 'INTERNAL',
    });
    const info = await imageInfo(p('top.qcow2'));
    expect(info).toMatchObject({ virtualSize: 8 * MiB, backingFile: p('base.qcow2'), backingFormat: 'qcow2' });
    expect(info.fullBackingFile).toBe(p('base.qcow2'));
  });

  it('tells a missing file from a file that is not an image', async () => {
    expect(await codeOf(imageInfo(p('absent.qcow2')))).toBe('FILE_NOT_FOUND');
    await writeFile(p('notes.txt'), 'hello');
    expect(await codeOf(imageInfo(p('notes.txt'), { format: 'qcow2' }))).toBe('IMAGE_INVALID');
    expect((await imageInfo(p('notes.txt'))).format).toBe('raw'); // probing calls anything raw
  });

  it('answers QEMU_IMG_MISSING when qemu-img is not installed', async () => {
    await createImage(p('d.raw'), 'raw', MiB);
    expect(await codeOf(imageInfo(p('d.raw'), { binary: 'qemu-img-not-here' }))).toBe('QEMU_IMG_MISSING');
    expect(await codeOf(createImage(p('e.raw'), 'raw', MiB, { binary: 'qemu-img-not-here' }))).toBe('QEMU_IMG_MISSING');
    expect(await tempFiles()).toEqual([]);
  });

  it('honours an already-aborted signal without leaving files', async () => {
    const ac = new AbortController();
    ac.abort();
    expect(await codeOf(createImage(p('x.qcow2'), 'qcow2', MiB, { signal: ac.signal }))).toBe('ABORTED');
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('checkImage', () => {
  it('finds a fresh qcow2 clean and does not pretend to check raw', async () => {
    await createImage(p('a.qcow2'), 'qcow2', 10 * MiB);
    expect(await checkImage(p('a.qcow2'))).toMatchObject({ supported: true, clean: true, corruptions: 0, leaks: 0 });
    await createImage(p('b.raw'), 'raw', MiB);
    expect(await checkImage(p('b.raw'))).toMatchObject({ supported: false, clean: true });
  });

  it('reports leaks and corruptions without throwing', async () => {
    await createImage(p('leaky.qcow2'), 'qcow2', 10 * MiB);
    await patchRefcount(p('leaky.qcow2'), 1, 2); // referenced once, counted twice
    expect(await checkImage(p('leaky.qcow2'))).toMatchObject({ supported: true, clean: false, leaks: 1, corruptions: 0 });

    await createImage(p('broken.qcow2'), 'qcow2', 10 * MiB);
    await patchRefcount(p('broken.qcow2'), 3, 0); // the L1 table, in use but counted 0
    expect(await checkImage(p('broken.qcow2'))).toMatchObject({ clean: false, corruptions: 1 });
  });

  it('answers IMAGE_INVALID when qemu-img cannot open the file', async () => {
    await mkdir(p('sub'));
    await writeFile(p('sub/notes.txt'), 'hello');
    expect(await codeOf(checkImage(p('sub/notes.txt'), { format: 'qcow2' }))).toBe('IMAGE_INVALID');
  });
});
