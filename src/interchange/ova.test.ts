/**
 * OVA export and import on real parts: the full stub stack's VmService (real
 * SQLite, real VM folders), real qemu-img and GNU tar. A VM exports as one
 * .ova (descriptor, manifest, disk — in that order, reproducible headers);
 * the .ova imports back into the same spec and disk content; a dry run
 * extracts no disk; a manifest mismatch, a hostile member name and a
 * truncated archive are refused with nothing created and the extraction
 * folder gone.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFullStubStack, type FullStubStack } from '../../test/helpers/full-stub-stack.js';
import { isPolyvisorError, type ErrorCode } from '../shared/index.js';
import { builtinCodecs } from './formats.js';
import { InterchangeService } from './interchange-service.js';
import { writeTar } from './tar-write.js';

let stack: FullStubStack;
let svc: InterchangeService;
let dir: string;
let work: string;
let ova: string;
const ctx = () => ({ signal: AbortSignal.timeout(120_000), progress: (): void => undefined });
const vmDirs = (): string[] => readdirSync(path.join(stack.dir, 'state', 'vms'));

beforeAll(async () => {
  stack = await openFullStubStack('interchange-ova');
  work = path.join(stack.dir, 'work');
  mkdirSync(work);
  svc = new InterchangeService({ vms: stack.service, codecs: builtinCodecs(), workDir: work });
  dir = path.join(stack.dir, 'in');
  mkdirSync(dir);
  const qcow = path.join(dir, 'src.qcow2');
  expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', qcow, '16M']).status).toBe(0);
  expect(spawnSync('qemu-io', ['-c', 'write -P 0x5a 0 1M', '-c', 'write -P 0xa5 8M 64k', qcow]).status).toBe(0);
  writeFileSync(path.join(dir, 'web.conf'), 'name: web\nmachine: q35\nostype: l26\nmemory: 256\nsockets: 1\ncores: 2\nscsihw: lsi\nscsi0: local:100/src.qcow2,size=16M\nnet0: e1000=52:54:00:12:34:56,bridge=vmbr0\n');
  await svc.importFile({ path: path.join(dir, 'web.conf') }, ctx());
  const out = path.join(stack.dir, 'out', 'ova');
  const ex = await svc.exportVm('web', { format: 'ova', out }, ctx());
  expect(ex.files.map((f) => f.name)).toEqual(['web.ova', 'SHA256SUMS']);
  ova = path.join(out, 'web.ova');
}, 120_000);
afterAll(() => stack?.close());

/** The OVA rebuilt by GNU tar from its members, after `change` edits them in a folder. */
function repack(name: string, change: (d: string) => string[]): string {
  const d = path.join(stack.dir, `repack-${name}`);
  mkdirSync(d);
  execFileSync('tar', ['-xf', ova, '-C', d]);
  const members = change(d);
  const f = path.join(stack.dir, `${name}.ova`);
  execFileSync('tar', ['--format=ustar', '-cf', f, '-C', d, ...members]);
  return f;
}

async function refusedLeavingNothing(file: string, code: ErrorCode, message: RegExp): Promise<void> {
  const before = vmDirs();
  const err = await svc.importFile({ path: file, name: 'nope' }, ctx()).then(() => undefined, (e: unknown) => e);
  expect(isPolyvisorError(err, code), String(err)).toBe(true);
  expect((err as Error).message).toMatch(message);
  expect(await stack.service.find('nope')).toBeUndefined();
  expect(vmDirs()).toEqual(before);
  expect(readdirSync(work)).toEqual([]);
}

describe('OVA', () => {
  it('exports one .ova: descriptor, manifest, disk in that order, sha256sum -c passes, the same headers twice', async () => {
    const listing = execFileSync('tar', ['-tvf', ova], { encoding: 'utf8' }).trim().split('\n');
    expect(listing.map((l) => l.split(/\s+/).at(-1))).toEqual(['web.ovf', 'web.mf', 'web-scsi0.vmdk']);
    for (const l of listing) expect(l).toMatch(/^-rw-r--r-- 0\/0 /);
    expect(spawnSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: path.dirname(ova) }).status).toBe(0);
    const mf = execFileSync('tar', ['-xOf', ova, 'web.mf'], { encoding: 'utf8' });
    expect(mf).toMatch(/^SHA256\(web\.ovf\)= [0-9a-f]{64}\nSHA256\(web-scsi0\.vmdk\)= [0-9a-f]{64}\n$/);
    // qemu-img gives each VMDK a random CID, so the bytes differ; the tar's headers (names, sizes, modes, owners, times) do not.
    const again = await svc.exportVm('web', { format: 'ova', out: path.join(stack.dir, 'out', 'ova2') }, ctx());
    expect(execFileSync('tar', ['-tvf', path.join(again.out, 'web.ova')], { encoding: 'utf8' }).trim().split('\n')).toEqual(listing);
  });

  it('a dry run reads the descriptor and manifest only, creating nothing', async () => {
    const before = vmDirs();
    const r = await svc.importFile({ path: ova, name: 'dry', dryRun: true }, ctx());
    expect(r).toMatchObject({ format: 'ova', dryRun: true, disks: [{ name: 'disk0', file: 'web-scsi0.vmdk', format: 'vmdk', found: true }] });
    expect(vmDirs()).toEqual(before);
    expect(readdirSync(work)).toEqual([]);
  });

  it('imports the .ova back into the same spec and disk content', async () => {
    const r = await svc.importFile({ path: ova, name: 'web-back' }, ctx());
    expect(r.vm?.name).toBe('web-back');
    const [a, b] = [await stack.service.get('web'), await stack.service.get('web-back')];
    // Lossy by design (docs/interchange.md): disk names become disk0…, the CPU model is not in OVF.
    expect([b.spec.cpu.count, b.spec.cpu.sockets, b.spec.cpu.cores]).toEqual([a.spec.cpu.count, a.spec.cpu.sockets, a.spec.cpu.cores]);
    expect(b.spec.memory).toBe(a.spec.memory);
    expect(b.spec.scsiController).toBe(a.spec.scsiController);
    expect(b.spec.networks.map((n) => [n.model, n.mac])).toEqual([['e1000', '52:54:00:12:34:56']]);
    expect(b.spec.disks.map((d) => [d.bus, d.media, d.size])).toEqual(a.spec.disks.map((d) => [d.bus, d.media, d.size]));
    expect([b.spec.machine, b.spec.boot, b.spec.os?.type]).toEqual([a.spec.machine, a.spec.boot, 'linux']);
    const disk = path.join(stack.service.dirOf(b), 'disks', `${b.spec.disks[0]!.name}.qcow2`);
    expect(spawnSync('qemu-img', ['compare', '-q', disk, path.join(dir, 'src.qcow2')]).status).toBe(0);
    expect(readdirSync(work)).toEqual([]);
  });

  it('refuses a disk that does not match the manifest, naming it, importing nothing', async () => {
    const f = repack('tampered', (d) => {
      const disk = path.join(d, 'web-scsi0.vmdk');
      const buf = readFileSync(disk);
      buf[buf.length - 600] = buf[buf.length - 600]! ^ 0xff;
      writeFileSync(disk, buf);
      return ['web.ovf', 'web.mf', 'web-scsi0.vmdk'];
    });
    await refusedLeavingNothing(f, 'CHECKSUM_MISMATCH', /web-scsi0\.vmdk does not match the manifest/);
  });

  it('refuses a manifest naming a file the OVA lacks, a ../ member, and a truncated OVA', async () => {
    const lacking = repack('lacking', () => ['web.ovf', 'web.mf']);
    await refusedLeavingNothing(lacking, 'CHECKSUM_MISMATCH', /lists web-scsi0\.vmdk, which the OVA does not hold/);
    const d = path.join(stack.dir, 'evil');
    mkdirSync(d);
    writeFileSync(path.join(d, 'x.ovf'), '<Envelope/>');
    const evil = path.join(stack.dir, 'evil.ova');
    execFileSync('tar', ['--format=ustar', '-cf', evil, '-C', d, '-P', '--transform', 's,^,../,', 'x.ovf']);
    expect(execFileSync('tar', ['-tf', evil], { encoding: 'utf8' }).trim()).toBe('../x.ovf');
    await refusedLeavingNothing(evil, 'INTERCHANGE_INVALID', /parent folder/);
    const cut = path.join(stack.dir, 'cut.ova');
    copyFileSync(ova, cut);
    truncateSync(cut, Math.floor(statSync(ova).size / 2));
    await refusedLeavingNothing(cut, 'INTERCHANGE_INVALID', /truncated/);
    expect(readdirSync(stack.dir)).not.toContain('x.ovf');
  });

  it('an OVA without a manifest imports with a warning; --strict refuses it', async () => {
    const d = path.join(stack.dir, 'nomf');
    mkdirSync(d);
    execFileSync('tar', ['-xf', ova, '-C', d]);
    const f = path.join(stack.dir, 'nomf.ova');
    await writeTar(f, ['web.ovf', 'web-scsi0.vmdk'].map((n) => ({ name: n, path: path.join(d, n) })));
    const r = await svc.importFile({ path: f, name: 'nomf', dryRun: true }, ctx());
    expect(r.warnings).toContainEqual({ source: 'nomf.ova', message: 'no manifest (.mf): the files are not verified' });
    await expect(svc.importFile({ path: f, strict: true }, ctx())).rejects.toSatisfy((e) => isPolyvisorError(e, 'INTERCHANGE_LOSSY'));
    expect(readdirSync(work)).toEqual([]);
  });
});
