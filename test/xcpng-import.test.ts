/**
 * Moving out of XCP-ng, end to end, against a FAKE XCP-ng pool (no Xen host
 * can run here; test/fakes/xapi is built from XAPI's published datamodel):
 * the pool holds a VM whose disk is the project's bootable test guest; the
 * daemon registers the pool as an endpoint over HTTPS with its own CA,
 * `polyvisor import xcp/VM` refuses the running source, then streams the
 * halted one's disk as VHD from /export_raw_vdi and converts it: the local
 * qcow2 holds exactly the source's bytes (qemu-img compare) and the VM boots
 * the guest to its ready line. Then the faults: a download cut halfway and
 * an endpoint that goes away mid-import leave no VM and no staged file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
import { FAKE_PASSWORD, FAKE_USER, startFakeXapi, type FakeXapi } from './fakes/xapi/server.js';

let fake: FakeXapi;
let doomed: FakeXapi;
let d: TestDaemon;
const work = mkdtempSync(path.join(os.tmpdir(), 'pv-xcpng-import-'));
const cli = (args: string[]) => runCli(['--socket', d.socket, ...args]);

function addEndpoint(name: string, f: FakeXapi): ReturnType<typeof cli> {
  writeFileSync(path.join(work, `${name}.ca.pem`), f.ca);
  return cli(['endpoint', 'add', name, '--driver', 'xcpng', '--url', f.url, '--user', FAKE_USER, '--password-file', path.join(work, 'pw'), '--ca', path.join(work, `${name}.ca.pem`)]);
}

/** Files left in the daemon's import staging area (none once an import ends, well or not). */
function staged(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/import-/.test(p)) out.push(p);
    }
  };
  walk(d.stateDir);
  return out;
}

beforeAll(async () => {
  const guest = { name: 'guest', power: 'Running' as const, vcpus: 1, memoryMiB: 256, diskFrom: testGuest().disk, macs: [] };
  [fake, doomed, d] = await Promise.all([
    startFakeXapi({ stepMs: 20, vms: [guest] }),
    startFakeXapi({ stepMs: 20, vms: [{ ...guest, power: 'Halted' }] }),
    startDaemon(),
  ]);
  writeFileSync(path.join(work, 'pw'), `${FAKE_PASSWORD}\n`, { mode: 0o600 });
}, limit('daemon', 3));
afterAll(async () => {
  await d?.client.removeVm('from-xcp', { force: true }).catch(() => undefined);
  await d?.stop();
  await fake?.stop();
  await doomed?.stop().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

describe('import from a fake XCP-ng pool (a simulator, not a real host) into a local QEMU VM', () => {
  it('refuses a running source, then copies the halted one byte for byte through export_raw_vdi (VHD) and boots it', async () => {
    const add = await addEndpoint('xcp', fake);
    expect(add.stderr).toBe('');
    expect(add.stdout).toMatch(/^endpoint xcp: added \(XCP-ng 8\.3\.0/);
    expect(JSON.parse((await cli(['endpoint', 'list', '--json'])).stdout)).toMatchObject([{ name: 'xcp', driver: 'xcpng' }]);

    const running = await cli(['import', 'xcp/guest', '--name', 'from-xcp', '--no-progress']);
    expect(running.stderr).toContain('error[FOREIGN_VM_RUNNING]');
    expect((await d.client.listVms()).map((v) => v.name)).not.toContain('from-xcp');
    expect((await cli(['vm', 'kill', 'xcp/guest'])).stdout).toBe('xcp/guest: stopped\n');

    const imp = await cli(['import', 'xcp/guest', '--name', 'from-xcp', '--no-start', '--no-progress', '--json']);
    expect(imp.stderr).toBe('');
    const r = JSON.parse(imp.stdout) as { vm: VmView; source: string; lossy: string[]; disks: Array<{ name: string; fromFormat: string }> };
    expect(r.source).toBe('xcp/guest');
    expect(r.disks).toMatchObject([{ name: 'xvda', fromFormat: 'vpc' }]);
    expect(fake.calls.filter((c) => c.method === 'GET /export_raw_vdi').length).toBe(1);
    console.log(`imported from the fake XCP-ng pool; not kept: ${JSON.stringify(r.lossy)}`);
    const vm = fake.vm('guest');
    const vbd = (fake.db.get('VM', vm)!['VBDs'] as string[]).map((b) => fake.db.get('VBD', b)!).find((b) => b['type'] === 'Disk')!;
    const source = fake.db.files.get(vbd['VDI'] as string)!;
    const local = managedDiskPath(r.vm.spec.disks[0]!, r.vm.files.dir);
    const cmp = spawnSync('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', source, local], { encoding: 'utf8' });
    expect(cmp.status, `${cmp.stdout}${cmp.stderr}`).toBe(0);
    expect(staged()).toEqual([]);

    expect((await cli(['vm', 'start', 'from-xcp'])).code).toBe(0);
    await waitForLine(d.client, 'from-xcp', READY, { timeoutMs: limit('boot') });
  }, limit('boot', 3));

  it('a download cut halfway is ENDPOINT_LOST and leaves no VM and nothing staged', async () => {
    fake.faults.cutExportAfterBytes = 3 * 1024 * 1024;
    const r = await cli(['import', 'xcp/guest', '--name', 'half-xcp', '--no-start', '--no-progress']);
    expect(r.stderr).toContain('error[ENDPOINT_LOST]');
    expect((await d.client.listVms()).map((v) => v.name)).not.toContain('half-xcp');
    expect(staged()).toEqual([]);
  }, limit('operation'));

  it('the endpoint going away mid-import is ENDPOINT_LOST, and leaves no VM and nothing staged', async () => {
    expect((await addEndpoint('doomed', doomed)).stderr).toBe('');
    doomed.faults.onExport = () => void doomed.stop();
    const r = await cli(['import', 'doomed/guest', '--name', 'gone-xcp', '--no-start', '--no-progress']);
    expect(r.stderr).toMatch(/error\[ENDPOINT_LOST\]/);
    expect((await d.client.listVms()).map((v) => v.name)).not.toContain('gone-xcp');
    expect(staged()).toEqual([]);
  }, limit('operation'));
});
