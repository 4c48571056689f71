/**
 * XenServer / XCP-ng XVA import. No XenServer runs here: the packages are
 * made by test/helpers/xva.ts in XAPI's layout (ova.xml as export.ml writes
 * it; 1 MiB chunks with .checksum or .xxhash, all-zero chunks left out, an
 * empty keep-alive chunk) and packed by GNU tar.
 *
 * - The reader: ova.xml of five VM shapes → the plans stored in
 *   test/golden/interchange/xva/ (UPDATE_GOLDEN=1 rewrites; review the diff),
 *   each a valid spec; hostile or broken ova.xml refused.
 * - XXH64 agrees with zstd's frame checksum (its low 32 bits) — a hash
 *   implementation that is not ours — on inputs past the 32-byte stripes.
 * - The chunk layout refuses members outside the format, oversized chunks,
 *   chunks past the virtual size, a checksum without its chunk.
 * - On the full stub stack's VmService and real qemu-img: an XVA imports into
 *   a qcow2 whose content equals the source disk (qemu-img compare), with
 *   SHA-1 and XXH64 chunks, sparse gaps and a keep-alive chunk; a dry run
 *   extracts nothing; a tampered chunk is CHECKSUM_MISMATCH and a stray member
 *   INTERCHANGE_INVALID, each leaving no VM, no VM folder, no work folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFullStubStack, type FullStubStack } from '../../test/helpers/full-stub-stack.js';
import { packXva, xvaOvaXml, type XvaVm } from '../../test/helpers/xva.js';
import { absolutePaths } from '../../test/golden/interchange/golden.js';
import { isPolyvisorError, type ErrorCode } from '../shared/index.js';
import { managedDiskPath } from '../storage/index.js';
import { validateSpec } from '../spec/index.js';
import { gunzipXva } from './xva-gunzip.js';
import { builtinCodecs, detectFormat } from './formats.js';
import { InterchangeService } from './interchange-service.js';
import { listTar, TAR_MAX_MEMBERS, type TarMember } from './tar-read.js';
import { XVA_MAX_MEMBERS } from './xva-open.js';
import { XVA_CHUNK, xvaLayout } from './xva-disks.js';
import { readXva } from './xva-read.js';
import { xxh64Hex } from './xxhash64.js';

const GOLDEN = path.resolve(import.meta.dirname, '..', '..', 'test', 'golden', 'interchange', 'xva');
const MiB = 1024 * 1024;

const CASES: Record<string, XvaVm> = {
  'debian-bios-two-disks-cd': {
    name: 'Debian 12 web', description: 'nginx front end', vcpus: 2, memoryMiB: 2048, vga: 'std', template: 'Debian Bookworm 12',
    disks: [{ userdevice: 0, sizeBytes: 10 * 1024 * MiB }, { userdevice: 1, sizeBytes: 2 * 1024 * MiB }],
    cds: [{ userdevice: 3, iso: 'debian-12.5.0-amd64-netinst.iso' }],
    vifs: [{ device: 0, mac: 'b6:1f:2a:00:00:01', network: 'Pool-wide network associated with eth0' }, { device: 1, mac: 'b6:1f:2a:00:00:02', network: 'Storage' }],
  },
  'windows-uefi-secureboot': {
    name: 'win2022', vcpus: 4, coresPerSocket: 2, memoryMiB: 8192, dynamicMaxMiB: 4096, firmware: 'uefi', secureboot: 'true', viridian: true, vga: 'std',
    template: 'Windows Server 2022 (64-bit)', disks: [{ userdevice: 0, sizeBytes: 64 * 1024 * MiB }], cds: [{ userdevice: 3 }],
    vifs: [{ device: 0, mac: '2e:8a:11:22:33:44', network: 'Pool-wide network associated with eth0' }], vtpm: true,
  },
  'pv-guest-with-snapshot': {
    name: 'legacy-pv', vcpus: 1, vcpusMax: 4, memoryMiB: 512, pv: true, template: 'CentOS 7',
    disks: [{ userdevice: 0, sizeBytes: 8 * 1024 * MiB }, { userdevice: 4, sizeBytes: 1024 * MiB, mode: 'RO' }],
    vifs: [{ device: 0, mac: 'aa:00:00:00:00:01', network: 'eth0' }], snapshots: 1,
  },
  'uefi-auto-secureboot-extra-platform': {
    name: 'rocky9', vcpus: 3, coresPerSocket: 2, memoryMiB: 1536, firmware: 'uefi', secureboot: 'auto', vga: 'cirrus',
    platform: { nic_type: 'e1000', 'exp-nested-hvm': 'true' }, disks: [{ userdevice: 0, sizeBytes: 20 * 1024 * MiB }],
    vifs: [{ device: 0, mac: '7a:7b:7c:00:00:01', network: 'eth0' }],
  },
  'diskless-template': { name: 'netboot', vcpus: 1, memoryMiB: 256, platform: { stdvga: '1' }, disks: [], vifs: [{ device: 0, mac: 'de:ad:be:ef:00:01', network: 'PXE' }] },
};

describe('XVA ova.xml reader', () => {
  for (const [name, vm] of Object.entries(CASES)) {
    it(`${name}: the plan stored in test/golden/interchange/xva`, () => {
      const { xml } = xvaOvaXml(vm);
      expect(detectFormat('ova.xml', xml.slice(0, 4096))).toBe('xva');
      const plan = readXva(xml, {});
      const disks = plan.spec.disks ?? [];
      validateSpec(absolutePaths({ ...plan.spec, disks: disks.length > 0 ? disks : [{ name: 'disk0', size: '1Gi' }] }));
      for (const w of plan.warnings) expect(w.source).not.toBe('');
      const text = `${JSON.stringify(plan, null, 2)}\n`;
      const file = path.join(GOLDEN, `${name}.plan.json`);
      if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, text);
      }
      expect(text).toBe(readFileSync(file, 'utf8'));
    });
  }

  it('--virtio moves IDE disks and the RTL8139 to virtio, each warned', () => {
    const plan = readXva(xvaOvaXml(CASES['debian-bios-two-disks-cd']!).xml, { virtio: true, name: 'web' });
    expect(plan.spec.name).toBe('web');
    expect(plan.spec.disks?.map((d) => d.bus)).toEqual(['virtio', 'virtio']);
    expect(plan.spec.networks?.map((n) => n.model)).toEqual(['virtio', 'virtio']);
    expect(plan.warnings.filter((w) => /virtio/.test(w.message)).length).toBe(4);
  });

  const refused = (xml: string, pattern: RegExp): void => {
    let err: unknown;
    try {
      readXva(xml, {});
    } catch (e) {
      err = e;
    }
    expect(isPolyvisorError(err, 'INTERCHANGE_INVALID'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(pattern);
  };
  const base = (): string => xvaOvaXml(CASES['debian-bios-two-disks-cd']!).xml;

  it('refuses entities, a missing objects list, two VMs, a VDI id that is a path, overflowing sizes, absurd counts', () => {
    refused(`<!DOCTYPE v [<!ENTITY a "aaaa">]>${base()}`, /entities/);
    refused('<value><struct><member><name>version</name><value>x</value></member></struct></value>', /no "objects" list/);
    const two = base().replace('<member><name>objects</name><value><array><data>', `<member><name>objects</name><value><array><data><value><struct><member><name>class</name><value>VM</value></member><member><name>id</name><value>Ref:77</value></member><member><name>snapshot</name><value><struct><member><name>is_a_snapshot</name><value><boolean>0</boolean></value></member></struct></value></member></struct></value>`);
    refused(two, /holds 2 VMs/);
    refused(base().replaceAll(`${xvaOvaXml(CASES['debian-bios-two-disks-cd']!).diskRefs[0]!}<`, '../../etc<'), /not a plain reference/);
    refused(base().replace(`<value>${10 * 1024 * MiB}</value>`, '<value>99999999999999999999</value>'), /virtual_size/);
    refused(base().replace('<name>VCPUs_at_startup</name><value>2</value>', '<name>VCPUs_at_startup</name><value>100000</value>'), /VCPUs_at_startup/);
    refused(base().replace(`<name>memory_static_max</name><value>${2048 * MiB}</value>`, '<name>memory_static_max</name><value>12</value>'), /memory_static_max/);
    refused('<value>' + '<array><data><value>'.repeat(70) + 'x' + '</value></data></array>'.repeat(70) + '</value>', /nested/);
  });
});

describe('XXH64', () => {
  it('matches the published vectors and zstd\'s frame checksum (low 32 bits of XXH64) on 1 MiB and odd lengths', () => {
    expect(xxh64Hex(Buffer.alloc(0))).toBe('EF46DB3751D8E999');
    expect(xxh64Hex(Buffer.from('abc'))).toBe('44BC2CF5AD770999');
    for (const len of [31, 32, 33, 1000, XVA_CHUNK, XVA_CHUNK - 7]) {
      const data = randomBytes(len);
      const frame = execFileSync('zstd', ['-q', '-c', '--check', '-1'], { input: data, maxBuffer: 8 * XVA_CHUNK });
      expect(xxh64Hex(data).slice(8).toLowerCase(), `length ${len}`).toBe(frame.subarray(frame.length - 4).readUInt32LE(0).toString(16).padStart(8, '0'));
    }
  });
});

describe('XVA chunk layout', () => {
  const m = (name: string, size = XVA_CHUNK, offset = 512): TarMember => ({ name, size, offset });
  const sizes = new Map([['Ref:1', 4 * MiB]]);
  const refusedLayout = (members: TarMember[], pattern: RegExp): void => {
    let err: unknown;
    try {
      xvaLayout('x.xva', members, sizes);
    } catch (e) {
      err = e;
    }
    expect(isPolyvisorError(err, 'INTERCHANGE_INVALID'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(pattern);
  };

  it('places chunks as XAPI reads them: gaps are zeros, an empty keep-alive chunk takes a number but no room', () => {
    const [l] = xvaLayout('x.xva', [m('ova.xml', 10), m('Ref:1', 0), m('Ref:1/00000000'), m('Ref:1/00000000.checksum', 40), m('Ref:1/00000001', 0), m('Ref:1/00000002'), m('Ref:1/00000004', 100)], sizes);
    expect(l!.chunks.map((c) => [c.index, c.offset])).toEqual([[0, 0], [1, MiB], [2, MiB], [4, 3 * MiB]]);
    expect([l!.bytes, l!.unverified]).toEqual([2 * MiB + 100, 3]);
  });

  it('refuses members outside the format, oversized chunks, chunks past the virtual size, a lone checksum', () => {
    refusedLayout([m('ova.xml', 10), m('etc/passwd', 10)], /belongs to no disk/);
    refusedLayout([m('Ref:9/00000000')], /belongs to no disk/);
    refusedLayout([m('Ref:1/0000000a')], /is not a chunk/);
    refusedLayout([m('Ref:1/00000000.sha256', 64)], /is not a chunk/);
    refusedLayout([m('Ref:1/00000000', XVA_CHUNK + 1)], /at most 1 MiB/);
    refusedLayout([m('Ref:1/00000004')], /runs past the disk's virtual size/);
    refusedLayout([m('Ref:1/99999999')], /runs past the disk's virtual size/);
    refusedLayout([m('Ref:1/00000003.xxhash', 16)], /checksum without its chunk/);
    refusedLayout([m('Ref:1', 5)], /chunk folder/);
  });
});

describe('XVA import on real parts', () => {
  let stack: FullStubStack;
  let svc: InterchangeService;
  let work: string;
  let dir: string;
  let raw0: Buffer;
  let raw1: Buffer;
  let good: string;
  const ctx = () => ({ signal: AbortSignal.timeout(120_000), progress: (): void => undefined });
  const vmDirs = (): string[] => readdirSync(path.join(stack.dir, 'state', 'vms'));
  const vm: XvaVm = {
    name: 'xen web', vcpus: 2, memoryMiB: 256, vga: 'std',
    disks: [{ userdevice: 0, sizeBytes: 6 * MiB + 4096 }, { userdevice: 1, sizeBytes: 3 * MiB }],
    vifs: [{ device: 0, mac: 'b6:1f:2a:00:00:09', network: 'eth0' }],
  };

  beforeAll(async () => {
    stack = await openFullStubStack('interchange-xva');
    work = path.join(stack.dir, 'work');
    dir = path.join(stack.dir, 'in');
    mkdirSync(work);
    mkdirSync(dir);
    svc = new InterchangeService({ vms: stack.service, codecs: builtinCodecs(), workDir: work });
    // Disk 0: data in chunk 0, zeros in 1-3 (left out), data in 4 and in the short last chunk; disk 1: one data chunk in the middle.
    raw0 = Buffer.alloc(6 * MiB + 4096);
    randomBytes(MiB).copy(raw0, 0);
    randomBytes(300_000).copy(raw0, 4 * MiB + 17);
    raw0.fill(0x5a, 6 * MiB);
    raw1 = Buffer.alloc(3 * MiB);
    randomBytes(MiB).copy(raw1, MiB);
    const { xml, diskRefs } = xvaOvaXml(vm);
    good = path.join(dir, 'web.xva');
    packXva(good, xml, [{ ref: diskRefs[0]!, raw: raw0, checksum: 'sha1', keepalive: true }, { ref: diskRefs[1]!, raw: raw1, checksum: 'xxhash' }]);
  }, 60_000);
  afterAll(() => stack?.close());

  async function refusedLeavingNothing(file: string, code: ErrorCode, message: RegExp, strict = false): Promise<void> {
    const before = vmDirs();
    const err = await svc.importFile({ path: file, name: 'nope', strict }, ctx()).then(() => undefined, (e: unknown) => e);
    expect(isPolyvisorError(err, code), String(err)).toBe(true);
    expect((err as Error).message).toMatch(message);
    expect(await stack.service.find('nope')).toBeUndefined();
    expect(vmDirs()).toEqual(before);
    expect(readdirSync(work)).toEqual([]);
  }

  it('a dry run maps the VM, finds both disks in the package and writes nothing', async () => {
    const r = await svc.importFile({ path: good, dryRun: true }, ctx());
    expect(r.format).toBe('xva');
    expect(r.disks.map((d) => [d.name, d.format, d.found])).toEqual([['disk0', 'raw', true], ['disk1', 'raw', true]]);
    expect(r.warnings.map((w) => w.source)).toEqual(['VM/name_label', 'VIF[device=0]/network']);
    expect(readdirSync(work)).toEqual([]);
  });

  it('imports: each disk reassembled (SHA-1 and XXH64 chunks, gaps, keep-alive) equals its source byte for byte', async () => {
    const r = await svc.importFile({ path: good, name: 'xen-web' }, ctx());
    expect(r.vm?.name).toBe('xen-web');
    const rec = await stack.service.get('xen-web');
    expect([rec.spec.machine.type, rec.spec.cpu.count, rec.spec.memory, rec.spec.disks.map((d) => `${d.name}:${d.bus}:${d.size}`)]).toEqual(['pc', 2, 256 * MiB, [`disk0:ide:${6 * MiB + 4096}`, `disk1:ide:${3 * MiB}`]]);
    expect(rec.spec.networks.map((n) => [n.model, n.mac])).toEqual([['rtl8139', 'b6:1f:2a:00:00:09']]);
    for (const [i, raw] of [raw0, raw1].entries()) {
      const src = path.join(dir, `src${i}.raw`);
      writeFileSync(src, raw);
      const local = managedDiskPath(rec.spec.disks[i]!, stack.service.dirOf(rec));
      const cmp = spawnSync('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', src, local], { encoding: 'utf8' });
      expect(cmp.status, `${cmp.stdout}${cmp.stderr}`).toBe(0);
    }
    expect(readdirSync(work)).toEqual([]);
  });

  it('a chunk that differs from its checksum refuses the import (CHECKSUM_MISMATCH, naming it), leaving nothing', async () => {
    const { xml, diskRefs } = xvaOvaXml(vm);
    const f = path.join(dir, 'tampered.xva');
    packXva(f, xml, [{ ref: diskRefs[0]!, raw: raw0, checksum: 'sha1' }, { ref: diskRefs[1]!, raw: raw1, checksum: 'xxhash' }]);
    // Flip one byte of disk 1's data chunk inside the tar (its checksum member stays).
    const bytes = readFileSync(f);
    const at = bytes.indexOf(raw1.subarray(MiB, MiB + 64));
    expect(at).toBeGreaterThan(0);
    bytes[at + 10] = bytes[at + 10]! ^ 0xff;
    writeFileSync(f, bytes);
    await refusedLeavingNothing(f, 'CHECKSUM_MISMATCH', new RegExp(`${diskRefs[1]!}/00000001 does not match its XXH64 checksum`));
    const sha = path.join(dir, 'tampered-sha1.xva');
    packXva(sha, xml, [{ ref: diskRefs[0]!, raw: raw0, checksum: 'sha1' }, { ref: diskRefs[1]!, raw: raw1, checksum: 'none' }]);
    const b2 = readFileSync(sha);
    const at2 = b2.indexOf(raw0.subarray(4 * MiB + 17, 4 * MiB + 81)) + 3;
    b2[at2] = b2[at2]! ^ 0x01;
    writeFileSync(sha, b2);
    await refusedLeavingNothing(sha, 'CHECKSUM_MISMATCH', /does not match its SHA-1 checksum/);
  });

  it('a member outside the format, a chunk past the disk, a truncated XVA and a missing ova.xml are refused, leaving nothing', async () => {
    const { xml, diskRefs } = xvaOvaXml(vm);
    const stray = path.join(dir, 'stray.xva');
    packXva(stray, xml, [{ ref: diskRefs[0]!, raw: raw0, checksum: 'sha1' }], [{ name: 'etc/cron.d/evil', data: Buffer.from('* * * * * root sh\n') }]);
    await refusedLeavingNothing(stray, 'INTERCHANGE_INVALID', /etc\/cron\.d\/evil.*belongs to no disk/);
    const past = path.join(dir, 'past.xva');
    packXva(past, xml, [{ ref: diskRefs[1]!, raw: raw1, checksum: 'sha1' }], [{ name: `${diskRefs[1]!}/00000009`, data: Buffer.alloc(16, 1) }]);
    await refusedLeavingNothing(past, 'INTERCHANGE_INVALID', /runs past the disk's virtual size/);
    const cut = path.join(dir, 'cut.xva');
    writeFileSync(cut, readFileSync(good).subarray(0, 3 * MiB));
    await refusedLeavingNothing(cut, 'INTERCHANGE_INVALID', /truncated/);
    const none = path.join(dir, 'none.xva');
    execFileSync('tar', ['-cf', none, '-C', dir, 'src0.raw']);
    await refusedLeavingNothing(none, 'INTERCHANGE_INVALID', /no ova\.xml/);
  });

  it('an .xva.gz is decompressed into the private folder and imports the same disks; a cut gzip stream and a bomb are refused, leaving nothing', async () => {
    const gz = path.join(dir, 'web.xva.gz');
    writeFileSync(gz, gzipSync(readFileSync(good), { level: 1 }));
    const dry = await svc.importFile({ path: gz, dryRun: true }, ctx());
    expect(dry.disks.map((d) => [d.name, d.found])).toEqual([['disk0', true], ['disk1', true]]);
    expect(readdirSync(work)).toEqual([]);
    const r = await svc.importFile({ path: gz, name: 'xen-gz' }, ctx());
    const rec = await stack.service.get(r.vm!.name);
    for (const [i, raw] of [raw0, raw1].entries()) {
      const src = path.join(dir, `gz-src${i}.raw`);
      writeFileSync(src, raw);
      expect(spawnSync('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', src, managedDiskPath(rec.spec.disks[i]!, stack.service.dirOf(rec))]).status).toBe(0);
    }
    expect(readdirSync(work)).toEqual([]);
    const cut = path.join(dir, 'cut.xva.gz');
    writeFileSync(cut, readFileSync(gz).subarray(0, 200_000));
    await refusedLeavingNothing(cut, 'INTERCHANGE_INVALID', /not a whole gzip stream/);
    const garbage = path.join(dir, 'garbage.xva.gz');
    writeFileSync(garbage, Buffer.from('not gzip at all'));
    await refusedLeavingNothing(garbage, 'INTERCHANGE_INVALID', /not a whole gzip stream/);
    // A bomb: 64 MiB of zeros in a few KiB, against a cap of 8 MiB (the daemon's cap is the free space less 1 GiB).
    const bomb = path.join(dir, 'bomb.xva.gz');
    writeFileSync(bomb, gzipSync(Buffer.alloc(64 * MiB), { level: 9 }));
    const tmp = mkdtempSync(path.join(work, 'gz-'));
    await expect(gunzipXva(bomb, tmp, { maxBytes: 8 * MiB })).rejects.toSatisfy((e) => isPolyvisorError(e, 'INTERCHANGE_INVALID') && /decompresses to more than 8388608 bytes/.test((e as Error).message));
    rmSync(tmp, { recursive: true, force: true });
  });

  it('the member cap is the XVA\'s own (two members per MiB of data), and applies', async () => {
    expect(XVA_MAX_MEMBERS).toBeGreaterThan(TAR_MAX_MEMBERS);
    await expect(listTar(good, 3)).rejects.toThrow(/more than 3 members/);
    expect((await listTar(good)).length).toBeGreaterThan(3);
  });

  it('--strict refuses an XVA whose chunks carry no checksum (warned as not verified)', async () => {
    const { xml, diskRefs } = xvaOvaXml({ ...vm, name: 'plain' });
    const f = path.join(dir, 'plain.xva');
    packXva(f, xml, [{ ref: diskRefs[0]!, raw: raw0, checksum: 'none' }, { ref: diskRefs[1]!, raw: raw1, checksum: 'none' }]);
    const dry = await svc.importFile({ path: f, dryRun: true }, ctx());
    expect(dry.warnings.filter((w) => /not verified/.test(w.message)).map((w) => w.source)).toEqual([`${diskRefs[0]!}/`, `${diskRefs[1]!}/`]);
    await refusedLeavingNothing(f, 'INTERCHANGE_LOSSY', /not verified/, true);
  });
});
