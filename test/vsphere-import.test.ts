/**
 * Moving out of VMware, end to end: vcsim (VMware's vCenter simulator, built
 * from Debian's govmomi by scripts/vcsim-build.sh; a simulator, not a real
 * vCenter) serves a VM whose disk is the project's bootable test guest as a
 * vmdk; the daemon registers it as an endpoint over HTTPS with its own CA,
 * `polyvisor import` refuses the running source, then copies the stopped
 * one: the local qcow2 holds exactly the source's bytes (qemu-img compare),
 * and the imported VM boots the guest to its ready line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndpointClient } from '../src/client/index.js';
import { managedDiskPath } from '../src/storage/index.js';
import type { VmView } from '../src/spec/index.js';
import { startDaemon, type TestDaemon } from './helpers/daemon.js';
import { testGuest } from './helpers/guest.js';
import { runCli } from './helpers/http.js';
import { limit } from './helpers/limits.js';
import { startVcsim, type Vcsim } from './helpers/vcsim.js';
import { READY, waitForLine } from './helpers/vm.js';

const SOURCE = 'DC0_H0_VM0';
let sim: Vcsim;
let d: TestDaemon;
const work = mkdtempSync(path.join(os.tmpdir(), 'pv-vsphere-import-'));
const cli = (args: string[]) => runCli(['--socket', d.socket, ...args]);

function upload(dsPath: string, body: Buffer): Promise<void> {
  const u = new URL(`/folder/${dsPath}?dcPath=DC0&dsName=LocalDS_0`, sim.url);
  return new Promise((resolve, reject) => {
    const req = https.request(u, { method: 'PUT', ca: sim.ca, headers: { 'Content-Length': String(body.length) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`upload answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  [sim, d] = await Promise.all([startVcsim({ hosts: 2, vms: 2 }), startDaemon()]);
}, limit('daemon', 3));
afterAll(async () => {
  await d?.client.removeVm('from-vmware', { force: true }).catch(() => undefined);
  await d?.stop();
  await sim?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('import from vSphere (vcsim, a simulator) into a local QEMU VM', () => {
  it('refuses a running source, then copies the stopped one byte for byte and boots it', async () => {
    const vmdk = path.join(work, 'guest.vmdk');
    const conv = spawnSync('qemu-img', ['convert', '-O', 'vmdk', testGuest().disk, vmdk], { encoding: 'utf8', timeout: 120_000 });
    expect(conv.status, conv.stderr).toBe(0);
    await upload(`${SOURCE}/disk1.vmdk`, readFileSync(vmdk));
    writeFileSync(path.join(work, 'pw'), `${sim.password}\n`, { mode: 0o600 });
    writeFileSync(path.join(work, 'ca.pem'), sim.ca);
    const add = await cli(['endpoint', 'add', 'vc', '--driver', 'vsphere', '--url', sim.url, '--user', sim.user, '--password-file', path.join(work, 'pw'), '--ca', path.join(work, 'ca.pem')]);
    expect(add.stderr).toBe('');
    expect(add.stdout).toMatch(/^endpoint vc: added \(VMware vCenter Server/);

    const running = await cli(['import', `vc/${SOURCE}`, '--name', 'from-vmware', '--no-progress']);
    expect(running.stderr).toContain('error[FOREIGN_VM_RUNNING]');
    expect((await d.client.listVms()).map((v) => v.name)).not.toContain('from-vmware');

    // vcsim's VMs have 32 MiB: give the source room for the test guest first (vSphere's reconfigure, while stopped).
    expect((await cli(['vm', 'kill', `vc/${SOURCE}`])).stdout).toBe(`vc/${SOURCE}: stopped\n`);
    const ep = new EndpointClient({ endpoint: { socketPath: d.socket } });
    expect((await ep.reconfigure('vc', SOURCE, { memory: '256Mi' })).memoryBytes).toBe(256 * 1024 ** 2);

    const imp = await cli(['import', `vc/${SOURCE}`, '--name', 'from-vmware', '--no-start', '--no-progress', '--json']);
    expect(imp.stderr).toBe('');
    const r = JSON.parse(imp.stdout) as { vm: VmView; source: string; lossy: string[]; disks: Array<{ name: string; fromFormat: string }> };
    expect(r.source).toBe(`vc/${SOURCE}`);
    expect(r.disks.map((x) => x.fromFormat)).toEqual(['vmdk']);
    console.log(`imported from vcsim; not kept: ${JSON.stringify(r.lossy)}`);
    const disk = r.vm.spec.disks[0]!;
    const local = managedDiskPath(disk, r.vm.files.dir);
    const cmp = spawnSync('qemu-img', ['compare', '-f', 'vmdk', '-F', 'qcow2', vmdk, local], { encoding: 'utf8' });
    expect(cmp.status, `${cmp.stdout}${cmp.stderr}`).toBe(0);

    expect((await cli(['vm', 'start', 'from-vmware'])).code).toBe(0);
    await waitForLine(d.client, 'from-vmware', READY, { timeoutMs: limit('boot') });
  }, limit('boot', 3));
});
