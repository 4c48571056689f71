/**
 * verify --boot with the real guest: a live backup is restored into a
 * scratch VM built from the spec recorded in the catalogue (direct kernel
 * boot, as the VM booted), which boots until POLYVISOR-GUEST-READY; the
 * scratch VM and its files are gone afterwards, and the source VM runs on.
 * A guest that never gets ready gives booted: false and a failed verify.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BackupClient } from '../src/client/index.js';
import { ROOT, killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { removeAllVms } from './helpers/isolate.js';
import { limitSeconds } from './helpers/waits.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';

let d: TestDaemon;
/** The CLI, run without blocking the event loop (a blocked loop misses the daemon closing idle keep-alive sockets). */
const cli = (...args: string[]) => promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), '--socket', d.socket, ...args], { encoding: 'utf8' });

beforeAll(async () => {
  d = await startDaemon();
});
// every test makes its own VMs; none outlives it
afterEach(() => removeAllVms(d));
afterAll(async () => {
  await d?.stop();
  killQemusUnder(d.stateDir);
});

describe('verify --boot', () => {
  it('boots the restored backup in a scratch VM and removes it', async () => {
    const vm = 'bootme';
    await d.client.createVm(guestSpec(vm, { disks: [{ name: 'data', size: '16Mi' }] }));
    await d.client.action(vm, 'start');
    await waitForLine(d.client, vm, READY);
    const b = new BackupClient({ endpoint: { socketPath: d.socket } });
    // the CLI runs the backup as an operation and prints the record's summary
    const made = await cli('backup', 'create', vm, '--bwlimit', '64');
    expect(made.stdout).toMatch(/^backup bootme\/\S+: full \(live\)/);
    const bk = (await b.list(vm))[0]!;
    const verified = await cli('--json', 'backup', 'verify', vm, bk.id, '--boot', '--boot-timeout', String(limitSeconds('boot', 4)));
    const r = JSON.parse(verified.stdout) as { ok: boolean; boot: { booted: boolean; ms: number; scratchVm: string } };
    expect(r.ok).toBe(true);
    expect(r.boot.booted).toBe(true);
    expect(r.boot.ms).toBeGreaterThan(0);
    expect(r.boot.scratchVm).toMatch(/^verify-/);
    const names = (await d.client.listVms()).map((v) => v.name);
    expect(names).toEqual([vm]);
    expect(readdirSync(d.stateDir).filter((f) => f.startsWith('verify-'))).toEqual([]);
    expect((await d.client.getVm(vm)).state).toBe('running');
    await d.client.action(vm, 'kill');
  });

  it('reports booted: false (and fails verify) when the guest never gets ready, and still cleans up', async () => {
    const vm = 'noboot';
    await d.client.createVm(guestSpec(vm, { disks: [{ name: 'data', size: '8Mi' }] }, 'rdinit=/nonexistent'));
    const b = new BackupClient({ endpoint: { socketPath: d.socket } });
    const bk = await b.create(vm); // offline: the VM was never started
    const r = await b.verify(vm, bk.id, { boot: true, bootTimeoutSeconds: 5 });
    expect(r.ok).toBe(false);
    expect(r.boot).toMatchObject({ booted: false });
    expect(r.problems.join(' ')).toMatch(/boot test: no "POLYVISOR-GUEST-READY" on the serial console within 5 s|boot test: the scratch VM is/);
    expect((await d.client.listVms()).map((v) => v.name).sort()).toEqual([vm]);
    expect(readdirSync(d.stateDir).filter((f) => f.startsWith('verify-'))).toEqual([]);
  });
});
