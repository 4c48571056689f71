/**
 * OVA through the real daemon, the CLI and real qemu-img (no guest boots:
 * the point is the package, and the disk's bytes are compared instead). A VM
 * imported from a Proxmox config with a qcow2 holding a pattern exports with
 * `polyvisor export --format ova` as one .ova GNU tar lists in VMware's order;
 * `polyvisor import X.ova` gives back the same spec (apart from the documented
 * lossy fields) and the same disk content by `qemu-img compare`; a dry run
 * over REST creates nothing; a tampered disk is refused with
 * CHECKSUM_MISMATCH naming the file, and a `../` member with
 * INTERCHANGE_INVALID, each leaving no VM, no VM folder and no extraction
 * folder behind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InterchangeClient } from '../src/client/index.js';
import { startDaemon, tempStateDir, vmDirsIn, type TestDaemon } from './helpers/daemon.js';
import { runCli } from './helpers/http.js';
import { limit } from './helpers/limits.js';

let d: TestDaemon;
let dir: string;
let tmp: string;
const cli = (args: string[]) => runCli(['--socket', d.socket, ...args], { TMPDIR: tmp });
const vmDirs = (): string[] => vmDirsIn(d.stateDir);
const strays = (): string[] => readdirSync(tmp).filter((f) => f.startsWith('.ova-import-'));

beforeAll(async () => {
  dir = tempStateDir('ova-in');
  tmp = path.join(dir, 'tmp');
  mkdirSync(tmp);
  // The daemon extracts OVAs under its temp folder: a private one, so strays would show.
  d = await startDaemon({ env: { TMPDIR: tmp } });
  const qcow = path.join(dir, 'src.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', qcow, '32M']);
  execFileSync('qemu-io', ['-c', 'write -P 0x5a 0 2M', '-c', 'write -P 0xc3 20M 256k', qcow]);
  writeFileSync(path.join(dir, 'web.conf'), 'name: web\nmachine: q35\nostype: l26\nmemory: 192\nsockets: 2\ncores: 1\nscsihw: pvscsi\nscsi0: local:100/src.qcow2,size=32M\nnet0: vmxnet3=52:54:00:ab:cd:ef,bridge=vmbr0\n');
  const r = await cli(['import', path.join(dir, 'web.conf'), '--no-progress']);
  expect(r.code, r.stderr).toBe(0);
}, limit('daemon', 2));

afterAll(async () => {
  await d?.stop();
});

describe('OVA through the daemon and the CLI', () => {
  let ova: string;

  it('polyvisor export --format ova writes one .ova: descriptor, manifest, disk', async () => {
    const out = path.join(dir, 'out');
    const r = await cli(['export', 'web', '--format', 'ova', '--out', out, '--no-progress', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout) as { files: Array<{ name: string }> };
    expect(view.files.map((f) => f.name)).toEqual(['web.ova', 'SHA256SUMS']);
    ova = path.join(out, 'web.ova');
    expect(execFileSync('tar', ['-tf', ova], { encoding: 'utf8' }).trim().split('\n')).toEqual(['web.ovf', 'web.mf', 'web-scsi0.vmdk']);
    expect(spawnSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: out }).status).toBe(0);
  });

  it('a dry run over REST maps the OVA and creates nothing', async () => {
    const before = vmDirs();
    const r = await new InterchangeClient({ endpoint: { socketPath: d.socket } }).importDryRun({ path: ova, name: 'dry' });
    expect(r).toMatchObject({ format: 'ova', dryRun: true, disks: [{ found: true }] });
    expect(vmDirs()).toEqual(before);
    expect(strays()).toEqual([]);
  });

  it('polyvisor import X.ova gives back the same spec and disk content', async () => {
    const r = await cli(['import', ova, '--name', 'back', '--no-progress', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [a, b] = [await d.client.getVm('web'), await d.client.getVm('back')];
    expect([b.spec.cpu.count, b.spec.cpu.sockets, b.spec.cpu.cores, b.spec.memory]).toEqual([a.spec.cpu.count, a.spec.cpu.sockets, a.spec.cpu.cores, a.spec.memory]);
    expect([b.spec.machine.type, b.spec.boot.firmware, b.spec.scsiController, b.spec.os?.type]).toEqual([a.spec.machine.type, a.spec.boot.firmware, a.spec.scsiController, 'linux']);
    expect(b.spec.networks.map((n) => [n.model, n.mac])).toEqual([['vmxnet3', '52:54:00:ab:cd:ef']]);
    expect(b.spec.disks.map((x) => [x.bus, x.size])).toEqual(a.spec.disks.map((x) => [x.bus, x.size]));
    const disk = path.join(d.stateDir, 'vms', b.id, 'disks', `${b.spec.disks[0]!.name}.qcow2`);
    expect(spawnSync('qemu-img', ['compare', '-q', disk, path.join(dir, 'src.qcow2')]).status).toBe(0);
    expect(strays()).toEqual([]);
  });

  it('a tampered disk and a ../ member are refused, leaving nothing', async () => {
    const x = path.join(dir, 'x');
    mkdirSync(x);
    execFileSync('tar', ['-xf', ova, '-C', x]);
    const vmdk = path.join(x, 'web-scsi0.vmdk');
    const buf = readFileSync(vmdk);
    buf[buf.length - 700] = buf[buf.length - 700]! ^ 0x01;
    writeFileSync(vmdk, buf);
    const tampered = path.join(dir, 'tampered.ova');
    execFileSync('tar', ['--format=ustar', '-cf', tampered, '-C', x, 'web.ovf', 'web.mf', 'web-scsi0.vmdk']);
    const evil = path.join(dir, 'evil.ova');
    execFileSync('tar', ['--format=ustar', '-cf', evil, '-C', x, '-P', '--transform', 's,^web,../../web,', 'web.ovf']);
    const before = vmDirs();
    for (const [file, code, message] of [[tampered, 'CHECKSUM_MISMATCH', /web-scsi0\.vmdk does not match the manifest/], [evil, 'INTERCHANGE_INVALID', /parent folder/]] as const) {
      const r = await cli(['import', file, '--name', 'nope', '--no-progress']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(code);
      expect(r.stderr).toMatch(message);
    }
    expect((await cli(['vm', 'list', '--json'])).stdout).not.toContain('"nope"');
    expect(vmDirs()).toEqual(before);
    expect(strays()).toEqual([]);
  });
});
