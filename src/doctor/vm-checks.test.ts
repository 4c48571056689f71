import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { orphanDirs } from './vm-checks.js';

let root = '';
afterEach(() => { if (root) rmSync(root, { recursive: true, force: true }); });

describe('orphan-dir (a real vmsDir)', () => {
  it('names a directory no VM owns; the daemon\'s dot-folders (.qemu-uids: the uid allocations) are not VMs', async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'pv-orphan-'));
    for (const d of ['vm-1', 'left-over', '.qemu-uids']) mkdirSync(path.join(root, d));
    const found = await orphanDirs({ vmsDir: root } as never, [{ id: 'vm-1' }] as never);
    expect(found.map((f) => f.subject)).toEqual([path.join(root, 'left-over')]);
    rmSync(path.join(root, 'left-over'), { recursive: true });
    expect((await orphanDirs({ vmsDir: root } as never, [{ id: 'vm-1' }] as never)).map((f) => f.severity)).toEqual(['ok']);
  });
});
