import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../../shared/index.js';
import { seedFiles, buildSeedIso } from '../cloud-init/index.js';
import { compareImages, convertDisk } from '../convert-any.js';
import { DISK_FORMATS, FORMAT_TRAITS } from '../formats.js';
import { hashFile } from '../library/checksum.js';
import { isIso9660 } from '../library/inspect.js';
import { createImage } from '../qemu-img.js';
import { exportImages } from './export.js';

const MiB = 1024 ** 2;
let dir: string;
let src: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-export-'));
  src = path.join(dir, 'src.qcow2');
  await createImage(src, 'qcow2', 32 * MiB);
  // Real data in a few places (so every format has allocated and sparse parts).
  const raw = path.join(dir, 'data.raw');
  const fh = await open(raw, 'w');
  for (const at of [0, 5 * MiB, 17 * MiB, 31 * MiB]) await fh.write(randomBytes(512 * 1024), 0, 512 * 1024, at);
  await fh.truncate(32 * MiB);
  await fh.close();
  await rm(src);
  await convertDisk(raw, src, { from: 'raw', to: 'qcow2' });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('format conversion', () => {
  it.each(DISK_FORMATS.flatMap((a) => DISK_FORMATS.filter((b) => b !== a).map((b) => [a, b] as const)))('%s → %s round-trips identical', async (a, b) => {
    const first = path.join(dir, `rt-${a}-${b}-1${FORMAT_TRAITS[a].suffix}`);
    const second = path.join(dir, `rt-${a}-${b}-2${FORMAT_TRAITS[b].suffix}`);
    await convertDisk(src, first, { from: 'qcow2', to: a });
    await convertDisk(first, second, { to: b });
    expect(await compareImages(src, 'qcow2', second, FORMAT_TRAITS[b].qemu)).toBe(true);
    await rm(first);
    await rm(second);
  });
});

describe('exportImages', () => {
  it('writes every format, checked and compared, with a SHA256SUMS', async () => {
    const out = path.join(dir, 'out');
    const steps: number[] = [];
    const r = await exportImages([{ baseName: 'web-root', path: src, format: 'qcow2' }], ['vdi', 'vhdx', 'vmdk', 'qcow2', 'vmdk-stream', 'vpc', 'raw'], out, {
      onProgress: (p) => steps.push(p.fraction),
    });
    expect((await readdir(out)).sort()).toEqual(['SHA256SUMS', 'web-root-stream.vmdk', 'web-root.qcow2', 'web-root.raw', 'web-root.vdi', 'web-root.vhd', 'web-root.vhdx', 'web-root.vmdk']);
    expect(r.files.map((f) => [f.format, f.checked])).toEqual([['vdi', true], ['vhdx', true], ['vmdk', true], ['qcow2', true], ['vmdk-stream', true], ['vpc', false], ['raw', false]]);
    const sums = await readFile(r.sumsFile, 'utf8');
    for (const f of r.files) {
      expect(sums).toContain(`${await hashFile(f.file, 'sha256')}  ${path.basename(f.file)}\n`);
    }
    expect(steps.at(-1)).toBe(1);
    // The VMDK's embedded extent names its final file, not a temp name.
    expect((await readFile(path.join(out, 'web-root.vmdk'))).subarray(0, 4096).toString('latin1')).toContain('"web-root.vmdk"');
    // A second export to the same files is refused and changes nothing.
    const again = await exportImages([{ baseName: 'web-root', path: src, format: 'qcow2' }], ['vdi'], out).catch((e: unknown) => e);
    expect(isPolyvisorError(again, 'DISK_CREATE_FAILED')).toBe(true);
    expect((await readdir(out)).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});

describe('cloud-init seed', () => {
  it('builds meta-data, user-data and network-config into an ISO labelled cidata', async () => {
    const files = seedFiles({ sshAuthorizedKeys: ['ssh-ed25519 AAAAC3Nza test@host'] }, { name: 'web', id: 'uuid-1', macs: ['52:54:00:aa:bb:01', '52:54:00:aa:bb:02'] });
    expect(files['meta-data']).toBe('instance-id: uuid-1\nlocal-hostname: web\n');
    expect(files['user-data']).toBe('#cloud-config\nhostname: web\nssh_authorized_keys:\n  - "ssh-ed25519 AAAAC3Nza test@host"\n');
    // DHCP on each NIC found by its MAC, named eth0, eth1 in the spec's order (version 1: every renderer reads it).
    expect(files['network-config']).toBe([
      'version: 1', 'config:',
      '  - type: physical', '    name: eth0', '    mac_address: "52:54:00:aa:bb:01"', '    subnets:', '      - type: dhcp',
      '  - type: physical', '    name: eth1', '    mac_address: "52:54:00:aa:bb:02"', '    subnets:', '      - type: dhcp', '',
    ].join('\n'));
    expect(seedFiles({ sshAuthorizedKeys: [] }, { name: 'web', id: 'uuid-1', macs: [] })['network-config']).toBe('version: 1\nconfig: []\n');
    expect(seedFiles({ sshAuthorizedKeys: [], networkConfig: 'version: 2\n' }, { name: 'web', id: 'uuid-1', macs: [] })['network-config']).toBe('version: 2\n');
    const iso = path.join(dir, 'seed.iso');
    await buildSeedIso(iso, files);
    expect(await isIso9660(iso)).toBe(true);
    const pvd = Buffer.alloc(32);
    const fh = await open(iso, 'r');
    await fh.read(pvd, 0, 32, 0x8028);
    await fh.close();
    expect(pvd.toString('latin1').trim()).toBe('cidata');
    expect((await readFile(iso)).includes(Buffer.from('local-hostname: web'))).toBe(true);
  });
});
