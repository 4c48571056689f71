import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { convertImage, createImage, imageInfo } from './index.js';

const MiB = 1024 ** 2;
let dir: string;
let data: Buffer;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-convert-'));
  data = randomBytes(8 * MiB); // incompressible, so qemu-img really copies it
  await writeFile(p('src.raw'), data);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const p = (name: string) => path.join(dir, name);
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'no error',
    (e: unknown) => (isPolyvisorError(e) ? e.code : e),
  );

describe('convertImage', () => {
  it('converts raw → qcow2 → raw with progress ending at 1 and the same bytes', async () => {
    const seen: number[] = [];
    await convertImage(p('src.raw'), p('mid.qcow2'), {
      format: 'qcow2',
      sourceFormat: 'raw',
      rateLimitBytesPerSec: 16 * MiB,
      onProgress: (f) => seen.push(f),
    });
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(1);
    expect(seen.some((f) => f > 0 && f < 1)).toBe(true);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(await imageInfo(p('mid.qcow2'))).toMatchObject({ format: 'qcow2', virtualSize: 8 * MiB });

    const back: number[] = [];
    await convertImage(p('mid.qcow2'), p('out.raw'), { format: 'raw', onProgress: (f) => back.push(f) });
    expect(back.at(-1)).toBe(1);
    expect((await readFile(p('out.raw'))).equals(data)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['mid.qcow2', 'out.raw', 'src.raw']);
  });

  it('converts an empty qcow2 to raw', async () => {
    await createImage(p('empty.qcow2'), 'qcow2', 16 * MiB);
    const seen: number[] = [];
    await convertImage(p('empty.qcow2'), p('empty.raw'), { format: 'raw', onProgress: (f) => seen.push(f) });
    expect(seen.at(-1)).toBe(1);
    expect(await imageInfo(p('empty.raw'))).toMatchObject({ format: 'raw', virtualSize: 16 * MiB });
  });

  it('leaves no output when the conversion fails', async () => {
    await writeFile(p('notes.txt'), 'not a qcow2 image');
    const err = await convertImage(p('notes.txt'), p('out.raw'), { format: 'raw', sourceFormat: 'qcow2' }).catch((e: unknown) => e);
    expect(isPolyvisorError(err, 'DISK_CREATE_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/qcow2 format/);
    expect((await readdir(dir)).sort()).toEqual(['notes.txt', 'src.raw']);
    expect(await codeOf(convertImage(p('absent.qcow2'), p('out.raw'), { format: 'raw' }))).toBe('FILE_NOT_FOUND');
  });

  it('leaves no output when aborted mid-way', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    const pending = convertImage(p('src.raw'), p('out.qcow2'), {
      format: 'qcow2',
      sourceFormat: 'raw',
      rateLimitBytesPerSec: 2 * MiB, // ~4 s for 8 MiB
      signal: ac.signal,
      onProgress: (f) => {
        seen.push(f);
        if (f > 0) ac.abort();
      },
    });
    expect(await codeOf(pending)).toBe('ABORTED');
    expect(seen.some((f) => f > 0 && f < 1)).toBe(true);
    expect(await readdir(dir)).toEqual(['src.raw']);
  });

  it('leaves no output when it times out', async () => {
    const pending = convertImage(p('src.raw'), p('out.qcow2'), {
      format: 'qcow2',
      rateLimitBytesPerSec: MiB,
      timeoutMs: 300,
    });
    expect(await codeOf(pending)).toBe('TIMEOUT');
    expect(await readdir(dir)).toEqual(['src.raw']);
  });

  it('refuses an existing destination unless told to overwrite', async () => {
    await writeFile(p('out.raw'), 'old');
    expect(await codeOf(convertImage(p('src.raw'), p('out.raw'), { format: 'raw' }))).toBe('DISK_CREATE_FAILED');
    expect(await readFile(p('out.raw'), 'utf8')).toBe('old');
    await convertImage(p('src.raw'), p('out.raw'), { format: 'raw', sourceFormat: 'raw', overwrite: true });
    expect((await readFile(p('out.raw'))).equals(data)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['out.raw', 'src.raw']);
  });

  it('clears the temp file a killed writer of the same destination left', async () => {
    await writeFile(p('.out.raw.0badc0de.tmp'), 'half-written by a process that died');
    await writeFile(p('.other.raw.0badc0de.tmp'), 'not ours');
    await convertImage(p('src.raw'), p('out.raw'), { format: 'raw', sourceFormat: 'raw' });
    expect((await readdir(dir)).sort()).toEqual(['.other.raw.0badc0de.tmp', 'out.raw', 'src.raw']);
  });
});
