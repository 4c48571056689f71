/** QmpClient against a REAL qemu-system-x86_64 (`-machine none`, no guest needed). */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run, timeoutSignal, waitFor, type RunResult } from '../shared/index.js';
import { QmpClient } from './client.js';

const QEMU = process.env['POLYVISOR_QEMU'] ?? 'qemu-system-x86_64';
const qemuPath = [QEMU, ...(process.env['PATH'] ?? '').split(':').map((d) => path.join(d, QEMU))].find((p) => p.includes('/') && existsSync(p));
const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-qmp-real-'));
const stop = new AbortController();
afterAll(() => {
  stop.abort(); // run() SIGKILLs its child (by PID) if it is still running
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!qemuPath)(`QmpClient with real QEMU${qemuPath ? '' : ` (SKIPPED: ${QEMU} not found on PATH)`}`, () => {
  it('connects, runs query-status and query-version, and quits', async () => {
    const sock = path.join(dir, 'qmp.sock');
    const exited: Promise<RunResult> = run(qemuPath!, ['-machine', 'none', '-nodefaults', '-display', 'none', '-qmp', `unix:${sock},server=on,wait=off`], {
      timeoutMs: 30_000, signal: stop.signal,
    });
    exited.catch(() => undefined);
    await waitFor('the QMP socket', () => (existsSync(sock) ? true : undefined), { signal: timeoutSignal(10_000) });
    const c = await QmpClient.connect(sock);
    expect(c.version.major).toBeGreaterThanOrEqual(7);
    expect(await c.execute('query-status')).toMatchObject({ status: expect.any(String), running: expect.any(Boolean) });
    const v = await c.execute<{ qemu: { major: number; minor: number } }>('query-version');
    expect(v.qemu.major).toBe(c.version.major);
    await expect(c.execute('no-such-command')).rejects.toMatchObject({ code: 'QMP_FAILED', details: { class: 'CommandNotFound' } });
    const closed = new Promise((r) => c.on('close', r));
    await c.execute('quit').catch(() => undefined);
    await closed;
    expect((await exited).code).toBe(0);
  });
});
