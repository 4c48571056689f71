import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolyvisorError } from './errors.js';
import { findExecutable, run } from './spawn.js';

describe('run', () => {
  it('a cancel kills the child and says ABORTED; a watchdog abort with a catalogue error reports that error', async () => {
    const user = new AbortController();
    const p1 = run('sleep', ['30'], { timeoutMs: 60_000, signal: user.signal });
    setTimeout(() => user.abort(), 50);
    await expect(p1).rejects.toMatchObject({ code: 'ABORTED', message: 'sleep was cancelled' });

    const watchdog = new AbortController();
    const p2 = run('sleep', ['30'], { timeoutMs: 60_000, signal: watchdog.signal });
    setTimeout(() => watchdog.abort(new PolyvisorError('TIMEOUT', 'copying data to the target: gave up after 600 s, no progress for 600 s; last seen: 41.0 %')), 50);
    await expect(p2).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringMatching(/no progress .* last seen: 41\.0 %/) });
  });
});

describe('findExecutable', () => {
  it('finds a tool on PATH or in sbin, takes a path as it is when it is executable, and says undefined otherwise', async () => {
    expect(await findExecutable('sh')).toMatch(/\/sh$/);
    expect(await findExecutable('/bin/sh')).toBe('/bin/sh');
    const plain = path.join(mkdtempSync(path.join(os.tmpdir(), 'pv-exe-')), 'qemu');
    writeFileSync(plain, '#!/bin/sh\n', { mode: 0o644 });
    expect(await findExecutable(plain)).toBeUndefined(); // a file, not executable (root's access(X_OK) alone would say yes on some mounts)
    expect(await findExecutable(path.dirname(plain))).toBeUndefined(); // a folder
    chmodSync(plain, 0o755);
    expect(await findExecutable(plain)).toBe(plain);
    rmSync(path.dirname(plain), { recursive: true });
    expect(await findExecutable('/nonexistent/qemu-system-x86_64')).toBeUndefined();
    expect(await findExecutable('no-such-tool-polyvisor')).toBeUndefined();
  });
});
