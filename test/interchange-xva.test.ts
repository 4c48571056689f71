/**
 * XenServer / XCP-ng XVA through the real daemon and the CLI. No XenServer
 * runs here: the XVA is built by the test in XAPI's layout
 * (test/helpers/xva.ts: ova.xml as export.ml writes it, the disk as 1 MiB
 * chunks with XXH64 checksums, all-zero chunks left out, packed by GNU tar),
 * its disk the project's bootable test guest. `polyvisor import X.xva
 * --dry-run` shows the mapping and creates nothing; the import makes a VM on
 * the mapped hardware (IDE disk on pc, RTL8139 with the XVA's MAC) whose disk
 * holds exactly the guest's bytes (qemu-img compare), and the VM boots the
 * guest to its ready line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
import { packXva, xvaOvaXml } from './helpers/xva.js';

let d: TestDaemon;
const work = mkdtempSync(path.join(os.tmpdir(), 'pv-xva-'));
const tmp = path.join(work, 'tmp');
const cli = (args: string[]) => runCli(['--socket', d.socket, ...args], { TMPDIR: tmp });
let xva: string;

beforeAll(async () => {
  spawnSync('mkdir', ['-p', tmp]);
  d = await startDaemon({ env: { TMPDIR: tmp } });
  const guest = readFileSync(testGuest().disk);
  const { xml, diskRefs } = xvaOvaXml({
    name: 'Xen guest', vcpus: 1, memoryMiB: 256, vga: 'std', template: 'Other install media',
    disks: [{ userdevice: 0, sizeBytes: guest.length }], vifs: [{ device: 0, mac: 'b6:1f:2a:00:00:42', network: 'Pool-wide network associated with eth0' }],
  });
  xva = path.join(work, 'guest.xva');
  packXva(xva, xml, [{ ref: diskRefs[0]!, raw: guest, checksum: 'xxhash', keepalive: true }]);
}, limit('daemon', 2));

afterAll(async () => {
  await d?.client.removeVm('xen-guest', { force: true }).catch(() => undefined);
  await d?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('XVA (built here in XenServer\'s layout; no XenServer runs here) through the daemon and the CLI', () => {
  it('a dry run shows the mapping and creates nothing', async () => {
    const r = await cli(['import', xva, '--dry-run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout) as { format: string; spec: { name: string; machine: { type: string } }; disks: Array<{ found: boolean }>; warnings: Array<{ source: string }> };
    expect([view.format, view.spec.name, view.spec.machine.type, view.disks.map((x) => x.found)]).toEqual(['xva', 'Xen-guest', 'pc', [true]]);
    expect(view.warnings.map((w) => w.source)).toEqual(['VM/name_label', 'VIF[device=0]/network']);
    expect((await d.client.listVms()).map((v) => v.name)).not.toContain('Xen-guest');
    expect(readdirSync(tmp)).toEqual([]);
  }, limit('shell', 2));

  it('imports the guest byte for byte and boots it to its ready line', async () => {
    const r = await cli(['import', xva, '--name', 'xen-guest', '--no-progress', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(tmp), 'the work folder is removed').toEqual([]);
    const vm: VmView = await d.client.getVm('xen-guest');
    expect([vm.spec.machine.type, vm.spec.disks.map((x) => x.bus), vm.spec.networks.map((n) => [n.model, n.mac])]).toEqual(['pc', ['ide'], [['rtl8139', 'b6:1f:2a:00:00:42']]]);
    const local = managedDiskPath(vm.spec.disks[0]!, vm.files.dir);
    const cmp = spawnSync('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', testGuest().disk, local], { encoding: 'utf8' });
    expect(cmp.status, `${cmp.stdout}${cmp.stderr}`).toBe(0);
    expect((await cli(['vm', 'start', 'xen-guest'])).code).toBe(0);
    await waitForLine(d.client, 'xen-guest', READY, { timeoutMs: limit('boot') });
  }, limit('boot', 3));
});
