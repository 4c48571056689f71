/**
 * InterchangeService on real parts: the full stub stack's VmService (real
 * SQLite, real VM folders) and real qemu-img. A Hyper-V script with a VHDX
 * imports into a VM with a qcow2 disk; that VM exports as a Proxmox config
 * whose SHA256SUMS `sha256sum -c` accepts, and the export imports again. Dry
 * runs, --strict, disks outside the folder and a corrupt disk leave nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFullStubStack, type FullStubStack } from '../../test/helpers/full-stub-stack.js';
import { isPolyvisorError } from '../shared/index.js';
import { builtinCodecs } from './formats.js';
import { InterchangeService } from './interchange-service.js';

let stack: FullStubStack;
let svc: InterchangeService;
let dir: string;
const ctx = () => ({ signal: AbortSignal.timeout(60_000), progress: (): void => undefined });
const vmDirs = (): string[] => readdirSync(path.join(stack.dir, 'state', 'vms'));

beforeAll(async () => {
  stack = await openFullStubStack('interchange');
  svc = new InterchangeService({ vms: stack.service, codecs: builtinCodecs() });
  dir = path.join(stack.dir, 'in');
  mkdirSync(dir);
  const qcow = path.join(dir, 'src.qcow2');
  expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', qcow, '8M']).status).toBe(0);
  expect(spawnSync('qemu-io', ['-c', 'write -P 0x5a 0 1M', qcow]).status).toBe(0);
  expect(spawnSync('qemu-img', ['convert', '-O', 'vhdx', qcow, path.join(dir, 'web.vhdx')]).status).toBe(0);
  writeFileSync(path.join(dir, 'web.ps1'), [
    "$VMName = 'hv-web'",
    'New-VM -Name $VMName -MemoryStartupBytes 128MB -Generation 1 -NoVHD',
    'Set-VMProcessor -VMName $VMName -Count 2',
    'Add-VMHardDiskDrive -VMName $VMName -Path "$PSScriptRoot\\web.vhdx"',
    "Set-VMNetworkAdapter -VMName $VMName -StaticMacAddress '00155D010203'",
  ].join('\r\n'));
}, 60_000);
afterAll(() => stack?.close());

describe('InterchangeService', () => {
  it('a dry run maps and lists missing disks as warnings, creating nothing; --strict refuses the warnings', async () => {
    writeFileSync(path.join(dir, 'lost.conf'), 'name: lost\nmemory: 64\nscsi0: local:100/vm-100-disk-9.qcow2,size=8M\n');
    const before = vmDirs();
    const r = await svc.importFile({ path: path.join(dir, 'lost.conf'), dryRun: true }, ctx());
    expect(r.dryRun).toBe(true);
    expect(r.disks).toEqual([{ name: 'scsi0', file: 'vm-100-disk-9.qcow2', format: 'qcow2', found: false }]);
    expect(r.warnings.map((w) => w.message)).toContain('the file vm-100-disk-9.qcow2 is missing beside the descriptor');
    await expect(svc.importFile({ path: path.join(dir, 'lost.conf'), strict: true, dryRun: true }, ctx())).rejects.toSatisfy((e) => isPolyvisorError(e, 'INTERCHANGE_LOSSY'));
    await expect(svc.importFile({ path: path.join(dir, 'lost.conf') }, ctx())).rejects.toSatisfy((e) => isPolyvisorError(e, 'FILE_NOT_FOUND'));
    expect(await stack.service.find('lost')).toBeUndefined();
    expect(vmDirs()).toEqual(before);
  });

  it('refuses a disk outside the descriptor\'s folder and a corrupt disk, leaving nothing', async () => {
    writeFileSync(path.join(dir, 'escape.conf'), 'name: esc\nmemory: 64\nscsi0: local:100/../../../etc/passwd,size=8M\n');
    writeFileSync(path.join(dir, 'bad.vhdx'), 'not a disk image at all');
    writeFileSync(path.join(dir, 'bad.ps1'), "New-VM -Name bad -Generation 2 -NoVHD\nAdd-VMHardDiskDrive -VMName bad -Path '.\\bad.vhdx'\n");
    const before = vmDirs();
    const esc = await svc.importFile({ path: path.join(dir, 'escape.conf'), dryRun: true }, ctx());
    expect(esc.disks[0]!.file).toBe('passwd'); // a Proxmox volume name keeps its file name only
    writeFileSync(path.join(dir, 'escape.ps1'), "New-VM -Name esc -NoVHD\nAdd-VMHardDiskDrive -VMName esc -Path '..\\..\\etc\\shadow'\n");
    await expect(svc.importFile({ path: path.join(dir, 'escape.ps1'), dryRun: true }, ctx())).rejects.toThrow(/points outside the descriptor's folder/);
    await expect(svc.importFile({ path: path.join(dir, 'bad.ps1') }, ctx())).rejects.toSatisfy((e) => isPolyvisorError(e));
    expect(await stack.service.find('bad')).toBeUndefined();
    expect(vmDirs()).toEqual(before);
  });

  it('imports a Hyper-V script with its VHDX, exports the VM as Proxmox with checksums, and that imports again', async () => {
    const r = await svc.importFile({ path: path.join(dir, 'web.ps1') }, ctx());
    expect(r.vm?.name).toBe('hv-web');
    const rec = await stack.service.get('hv-web');
    expect(rec.spec).toMatchObject({ cpu: { count: 2 }, memory: 128 * 1024 ** 2, machine: { type: 'pc' }, boot: { firmware: 'bios' } });
    expect(rec.spec.networks[0]).toMatchObject({ mac: '00:15:5d:01:02:03' });
    const disk = path.join(stack.service.dirOf(rec), 'disks', 'disk0.qcow2');
    expect(spawnSync('qemu-img', ['compare', '-q', disk, path.join(dir, 'src.qcow2')]).status).toBe(0);

    const out = path.join(stack.dir, 'out', 'pve');
    const ex = await svc.exportVm('hv-web', { format: 'proxmox', out }, ctx());
    expect(ex.files.map((f) => f.name).sort()).toEqual(['SHA256SUMS', 'hv-web.conf', 'vm-100-disk-0.qcow2']);
    expect(spawnSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: out }).status).toBe(0);
    expect(readFileSync(path.join(out, 'hv-web.conf'), 'utf8')).toMatch(/^ide0: local:100\/vm-100-disk-0\.qcow2,cache=writeback,format=qcow2,size=8M$/m);
    await expect(svc.exportVm('hv-web', { format: 'proxmox', out }, ctx())).rejects.toSatisfy((e) => isPolyvisorError(e, 'INVALID_PATH'));
    expect(readdirSync(path.dirname(out)).filter((f) => f.includes('partial'))).toEqual([]);

    const again = await svc.importFile({ path: path.join(out, 'hv-web.conf'), name: 'pve-web' }, ctx());
    expect(again.vm?.name).toBe('pve-web');
    const rec2 = await stack.service.get('pve-web');
    expect(spawnSync('qemu-img', ['compare', '-q', path.join(stack.service.dirOf(rec2), 'disks', 'ide0.qcow2'), path.join(dir, 'src.qcow2')]).status).toBe(0);
    expect(existsSync(path.join(out, 'vm-100-disk-0.qcow2'))).toBe(true);
  });
});
