import { copyFile, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../../shared/index.js';
import { hashFile } from '../library/checksum.js';
import { verifyOutput } from './export.js';

let dir: string;
let src: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-verify-'));
  src = path.join(dir, 'src.raw');
  const fh = await open(src, 'w');
  await fh.write(Buffer.alloc(64 * 1024, 0x5a), 0, 64 * 1024, 1024 * 1024);
  await fh.truncate(4 * 1024 * 1024);
  await fh.close();
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('export verification (check, compare and hash at once)', () => {
  it('an identical output gives its SHA-256', async () => {
    const out = path.join(dir, 'same.img');
    await copyFile(src, out);
    expect(await verifyOutput({ baseName: 'x', path: src, format: 'raw' }, out, 'same.img', 'raw', undefined)).toBe(await hashFile(out, 'sha256'));
  });

  it('one flipped byte fails with EXPORT_VERIFY_FAILED naming the compare, not the aborts it caused', async () => {
    const out = path.join(dir, 'flipped.img');
    await copyFile(src, out);
    const fh = await open(out, 'r+');
    await fh.write(Buffer.from([0x5b]), 0, 1, 1024 * 1024 + 4096);
    await fh.close();
    const err = await verifyOutput({ baseName: 'x', path: src, format: 'raw' }, out, 'flipped.img', 'raw', undefined).catch((e: unknown) => e);
    expect(isPolyvisorError(err) && err.code).toBe('EXPORT_VERIFY_FAILED');
    expect((err as Error).message).toContain('qemu-img compare');
  });
});
