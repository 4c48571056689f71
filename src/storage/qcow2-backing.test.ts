import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../shared/index.js';
import { qcow2BackingChainSync, qcow2BackingNameSync, qcow2ChainDepthSync } from './index.js';

// Real qemu-img writes the headers read here.
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-qbk-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const img = async (name: string, backing?: string): Promise<string> => {
  const f = path.join(dir, name);
  const r = await run('qemu-img', ['create', '-q', '-f', 'qcow2', ...(backing ? ['-u', '-b', backing, '-F', 'qcow2'] : []), f, '1M'], { timeoutMs: 30_000 });
  expect(r.code).toBe(0);
  return f;
};

describe('qcow2 backing chain from the headers', () => {
  it('reads each backing name as written and counts the layers below an image', async () => {
    const base = await img('a.qcow2');
    const mid = await img('b.qcow2', 'a.qcow2');
    const top = await img('c.qcow2', path.join(dir, 'b.qcow2'));
    expect(qcow2BackingNameSync(base)).toBe(null);
    expect(qcow2BackingNameSync(mid)).toBe('a.qcow2');
    expect(qcow2BackingNameSync(top)).toBe(path.join(dir, 'b.qcow2'));
    expect([qcow2ChainDepthSync(base), qcow2ChainDepthSync(mid), qcow2ChainDepthSync(top)]).toEqual([0, 1, 2]);
    expect(qcow2BackingChainSync(top)).toEqual([mid, base]);
  });

  it('refuses a file that is not qcow2', async () => {
    const f = path.join(dir, 'raw.img');
    await writeFile(f, Buffer.alloc(4096));
    expect(() => qcow2ChainDepthSync(f)).toThrow(/not a qcow2 image/);
  });
});
