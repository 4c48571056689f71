import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertDisk } from './convert-any.js';
import { regionFilename } from './image-region.js';
import { imageInfo } from './qemu-img.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-region-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('images read at a byte range of a bigger file', () => {
  it('names the format driver over a raw range of the file (raw: the range alone); refuses bad ranges and formats', () => {
    expect(JSON.parse(regionFilename('/a/b.ova', { offset: 1024, size: 4096 }, 'vmdk').slice(5))).toEqual({
      driver: 'vmdk', file: { driver: 'raw', offset: 1024, size: 4096, file: { driver: 'file', filename: '/a/b.ova' } },
    });
    expect(JSON.parse(regionFilename('/a/b.ova', { offset: 0, size: 512 }, 'raw').slice(5))).toEqual({
      driver: 'raw', offset: 0, size: 512, file: { driver: 'file', filename: '/a/b.ova' },
    });
    // No format: qemu probes it (the file node has no driver above it).
    expect(JSON.parse(regionFilename('/a/x",y.ova', { offset: 512, size: 512 }).slice(5))).toEqual({ file: { driver: 'raw', offset: 512, size: 512, file: { driver: 'file', filename: '/a/x",y.ova' } } });
    expect(() => regionFilename('/a', { offset: -1, size: 512 })).toThrow(/whole offset/);
    expect(() => regionFilename('/a', { offset: 0, size: 0 })).toThrow(/whole offset/);
    expect(() => regionFilename('/a', { offset: 0, size: 512 }, 'nbd')).toThrow(/not a format Polyvisor reads/);
  });

  it('imageInfo and convertDisk read the image between other bytes, and only those', async () => {
    const img = path.join(dir, 'd.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', img, '2M']);
    execFileSync('qemu-io', ['-c', 'write -P 0x5a 0 64k', img]);
    const body = readFileSync(img);
    const size = Math.ceil(body.length / 512) * 512;
    const bundle = path.join(dir, 'bundle.bin');
    writeFileSync(bundle, Buffer.concat([Buffer.alloc(4096, 0xee), body, Buffer.alloc(size - body.length), Buffer.alloc(4096, 0xee)]));
    const region = { offset: 4096, size };
    expect(await imageInfo(bundle, { region: { ...region, format: 'qcow2' } })).toMatchObject({ format: 'qcow2', virtualSize: 2 * 1024 ** 2 });
    expect((await imageInfo(bundle, { region })).format).toBe('qcow2'); // probed
    const out = path.join(dir, 'out.raw');
    await convertDisk(bundle, out, { to: 'raw', from: 'qcow2', region });
    const raw = readFileSync(out);
    expect(raw.length).toBe(2 * 1024 ** 2);
    expect(raw.subarray(0, 65536).every((b) => b === 0x5a)).toBe(true);
    expect(raw.subarray(65536).every((b) => b === 0)).toBe(true);
    await expect(convertDisk(bundle, path.join(dir, 'x.raw'), { to: 'raw', region })).rejects.toThrow(/needs its format/);
  });
});
