import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnDetached } from './spawn-detached.js';

let dir = '';
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('spawnDetached', () => {
  it('a missing binary is the missing code, also when QEMU would start as a VM\'s own user through setpriv (which would only exit 127)', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pv-spawn-'));
    const log = path.join(dir, 'qemu.log');
    const user = { uid: 2_000_000_001, gid: 2_000_000_001, groups: [2_000_000_000] };
    await expect(spawnDetached('/nonexistent/qemu-system-x86_64', [], log, 'QEMU_MISSING')).rejects.toMatchObject({ code: 'QEMU_MISSING' });
    await expect(spawnDetached('/nonexistent/qemu-system-x86_64', [], log, 'QEMU_MISSING', user)).rejects.toMatchObject({ code: 'QEMU_MISSING', message: expect.stringContaining('/nonexistent/qemu-system-x86_64 is not installed') });
    await expect(spawnDetached('no-such-qemu-polyvisor', [], log, 'QEMU_MISSING', user)).rejects.toMatchObject({ code: 'QEMU_MISSING' });
  });
});
