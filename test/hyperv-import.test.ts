/**
 * Moving out of Hyper-V, end to end, against a FAKE Hyper-V host
 * (test/fakes/hyperv: WinRM/WMI v2 built from Microsoft's published Msvm_*
 * schema; no real Hyper-V here). The fake's Generation 1 VM has the project's
 * bootable test guest as its VHDX disk (qemu-img convert); the daemon adds it
 * as an endpoint over HTTPS with its CA and credentials in the secrets store,
 * `polyvisor import` refuses the running source, then exports the stopped one
 * through ExportSystemDefinition into the endpoint's export folder: the local
 * qcow2 holds exactly the source's bytes (qemu-img compare) and boots the
 * guest to its ready line. An export job failing halfway imports nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { managedDiskPath } from '../src/storage/index.js';
import type { VmView } from '../src/spec/index.js';
import { startDaemon, type TestDaemon } from './helpers/daemon.js';
import { testGuest } from './helpers/guest.js';
import { runCli } from './helpers/http.js';
import { limit } from './helpers/limits.js';
import { READY, waitForLine } from './helpers/vm.js';
import { FAKE_PASSWORD, FAKE_USER, startFakeHyperv, type FakeHyperv } from './fakes/hyperv/server.js';

let fake: FakeHyperv;
let d: TestDaemon;
const work = mkdtempSync(path.join(os.tmpdir(), 'pv-hyperv-import-'));
const exportDir = path.join(work, 'share');
const cli = (args: string[]) => runCli(['--socket', d.socket, ...args]);

beforeAll(async () => {
  [fake, d] = await Promise.all([
    startFakeHyperv({ hosts: ['HV1'], stepMs: 30, vms: [{ name: 'guest-vm', gen: 1, memMiB: 256, state: 'running', disks: [{ from: testGuest().disk }] }] }),
    startDaemon(),
  ]);
}, limit('daemon', 3));
afterAll(async () => {
  await d?.client.removeVm('from-hyperv', { force: true }).catch(() => undefined);
  await d?.stop();
  await fake?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('import from Hyper-V (a fake WinRM/WMI v2 host, not a real one) into a local QEMU VM', () => {
  it('refuses a running source, fails cleanly when the export job fails, then copies the stopped VM byte for byte and boots it', async () => {
    writeFileSync(path.join(work, 'pw'), `${FAKE_PASSWORD}\n`, { mode: 0o600 });
    writeFileSync(path.join(work, 'ca.pem'), fake.ca);
    const url = `${fake.hosts[0]!.url}?exportDir=${encodeURIComponent(exportDir)}`;
    const add = await cli(['endpoint', 'add', 'hv', '--driver', 'hyperv', '--url', url, '--user', FAKE_USER, '--password-file', path.join(work, 'pw'), '--ca', path.join(work, 'ca.pem')]);
    expect(add.stderr).toBe('');
    expect(add.stdout).toMatch(/^endpoint hv: added \(Microsoft Hyper-V/);

    const running = await cli(['import', 'hv/guest-vm', '--name', 'from-hyperv', '--no-progress']);
    expect(running.stderr).toContain('error[FOREIGN_VM_RUNNING]');
    expect((await cli(['vm', 'kill', 'hv/guest-vm'])).stdout).toBe('hv/guest-vm: stopped\n');

    fake.failJob({ method: 'ExportSystemDefinition', atPercent: 50, message: "Failed to copy file 'guest-vm.vhdx': The network path was not found. (0x80070035)." });
    const failed = await cli(['import', 'hv/guest-vm', '--name', 'from-hyperv', '--no-start', '--no-progress']);
    expect(failed.stderr).toContain('error[ENDPOINT_TASK_FAILED]');
    expect(failed.stderr).toContain('network path was not found');
    expect((await d.client.listVms()).map((v) => v.name)).not.toContain('from-hyperv');
    expect(readdirSync(exportDir)).toEqual([]);

    const imp = await cli(['import', 'hv/guest-vm', '--name', 'from-hyperv', '--no-start', '--no-progress', '--json']);
    expect(imp.stderr).toBe('');
    const r = JSON.parse(imp.stdout) as { vm: VmView; source: string; lossy: string[]; disks: Array<{ name: string; fromFormat: string }> };
    expect(r.source).toBe('hv/guest-vm');
    expect(r.disks.map((x) => [x.name, x.fromFormat])).toEqual([['ide0-0', 'vhdx']]);
    expect(r.vm.spec.boot.firmware).toBe('bios');
    expect(r.lossy.join('\n')).toContain('Generation 1');
    expect(readdirSync(exportDir), 'the export is removed once read').toEqual([]);
    const local = managedDiskPath(r.vm.spec.disks[0]!, r.vm.files.dir);
    const cmp = spawnSync('qemu-img', ['compare', '-f', 'vhdx', '-F', 'qcow2', fake.world.vms[0]!.disks[0]!.file, local], { encoding: 'utf8' });
    expect(cmp.status, `${cmp.stdout}${cmp.stderr}`).toBe(0);

    expect((await cli(['vm', 'start', 'from-hyperv'])).code).toBe(0);
    await waitForLine(d.client, 'from-hyperv', READY, { timeoutMs: limit('boot') });
  }, limit('boot', 3));
});
