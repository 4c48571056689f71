/**
 * Storage through the real daemon and real guests (TCG): pools and volumes,
 * hot-plug of a volume into a running guest (it shows up in /sys/block and
 * goes away again), a library ISO attached as a CD-ROM, a cloud-init seed
 * read back inside the guest, an export with progress, the CLI.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StorageClient, type Progress } from '../src/client/index.js';
import { isPolyvisorError } from '../src/shared/index.js';
import { ROOT, killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { removeAllVms } from './helpers/isolate.js';
import { guestShell } from './helpers/shell.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';

let d: TestDaemon;
let s: StorageClient;
const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (isPolyvisorError(e) ? e.code : e));

beforeAll(async () => {
  d = await startDaemon();
  s = new StorageClient({ endpoint: { socketPath: d.socket } });
});
// no test leaves a VM, a volume or a library image to the next
afterEach(async () => {
  if (!d) return;
  await removeAllVms(d);
  for (const v of await s.listVolumes('default')) await s.deleteVolume('default', String(v['name'])).catch(() => undefined);
  for (const v of await s.listVolumes('default')) await s.deleteVolume('default', String(v['name'])).catch(() => undefined); // linked clones first, then their bases
  for (const i of await s.listImages()) await s.removeImage(String(i['name'])).catch(() => undefined);
});
afterAll(async () => {
  await d?.stop();
  killQemusUnder(d.stateDir);
});

describe('pools and volumes through the API', () => {
  it('reports the default pool and manages volumes', async () => {
    const pools = await s.listPools();
    expect(pools[0]).toMatchObject({ name: 'default', kind: 'dir', path: path.join(d.stateDir, 'pools', 'default'), default: true });
    expect(await s.createVolume('default', { name: 'data', size: '64Mi' })).toMatchObject({ format: 'qcow2', virtualSize: 64 * 1024 ** 2 });
    expect(await codeOf(s.createVolume('default', { name: '../x', size: '64Mi' }))).toBe('INVALID_NAME');
    expect(await codeOf(s.createVolume('default', { name: 'huge', size: '60Ti' }))).toBe('INSUFFICIENT_SPACE');
    const seen: Progress[] = [];
    const clone = await s.createVolume('default', { name: 'data-thin', cloneFrom: 'data', linked: true }, (p) => seen.push(p));
    expect(clone['backingFile']).toBe(path.join(d.stateDir, 'pools', 'default', 'data.qcow2'));
    expect(await codeOf(s.deleteVolume('default', 'data'))).toBe('VOLUME_IN_USE');
    await s.deleteVolume('default', 'data-thin');
  });
});

describe('hot-plug into a running guest', () => {
  const vm = 'hp';
  it('plugs a volume in (visible in the guest), refuses deleting it, and unplugs it', async () => {
    await s.createVolume('default', { name: 'data', size: '64Mi' }); // set-up: the volume to plug
    await d.client.createVm(guestSpec(vm));
    await d.client.action(vm, 'start');
    await waitForLine(d.client, vm, READY);
    expect((await guestShell(d.client, vm, 'ls /sys/block')).split(/\s+/)).not.toContain('vda');
    const r = await s.attachDisk(vm, { pool: 'default', volume: 'data' });
    expect(r).toMatchObject({ hotplugged: true, disk: { name: 'data', bus: 'virtio', media: 'disk' } });
    let seen = '';
    for (let i = 0; i < 50 && !seen.split(/\s+/).includes('vda'); i++) seen = await guestShell(d.client, vm, 'ls /sys/block');
    expect(seen.split(/\s+/)).toContain('vda');
    expect(await guestShell(d.client, vm, 'cat /sys/block/vda/size')).toBe(`${(64 * 1024 ** 2) / 512}\n`);
    expect((await d.client.getVm(vm)).spec.disks.map((x) => x.name)).toEqual(['data']);
    expect(await codeOf(s.deleteVolume('default', 'data'))).toBe('VOLUME_IN_USE');
    await s.detachDisk(vm, 'data');
    expect((await guestShell(d.client, vm, 'ls /sys/block')).split(/\s+/)).not.toContain('vda');
    expect((await d.client.getVm(vm)).spec.disks).toEqual([]);
    await d.client.action(vm, 'kill');
  });
});

describe('library ISO as a CD-ROM, and a cloud-init seed, read inside the guest', () => {
  it('imports a local ISO with its checksum and the guest mounts it', async () => {
    const work = path.join(d.stateDir, 'work');
    mkdirSync(path.join(work, 'iso'), { recursive: true });
    writeFileSync(path.join(work, 'iso', 'hello.txt'), 'hello from the library\n');
    const isoFile = path.join(work, 'tools.iso');
    expect(spawnSync('xorriso', ['-as', 'mkisofs', '-quiet', '-o', isoFile, '-V', 'TOOLS', path.join(work, 'iso')]).status).toBe(0);
    const sha = createHash('sha256').update(readFileSync(isoFile)).digest('hex');
    expect(await codeOf(s.importImage({ name: 'tools', path: isoFile, checksum: 'ab'.repeat(32) }))).toBe('CHECKSUM_MISMATCH');
    expect(readdirSync(path.join(d.stateDir, 'library')).filter((f) => f.startsWith('tools'))).toEqual([]);
    expect(await s.importImage({ name: 'tools', path: isoFile, checksum: sha })).toMatchObject({ kind: 'iso', verified: true });
    const vm = 'cd';
    await d.client.createVm(guestSpec(vm));
    const r = await s.attachDisk(vm, { image: 'tools' });
    expect(r).toMatchObject({ hotplugged: false, disk: { media: 'cdrom', bus: 'scsi', readOnly: true } });
    await d.client.action(vm, 'start');
    await waitForLine(d.client, vm, READY);
    const out = await guestShell(d.client, vm, 'mkdir -p /mnt/cd; mount -t iso9660 -o ro /dev/sr0 /mnt/cd && cat /mnt/cd/hello.txt');
    expect(out).toContain('hello from the library');
    expect(await codeOf(s.removeImage('tools'))).toBe('VOLUME_IN_USE');
    await d.client.action(vm, 'kill');
  });

  it('boots with a NoCloud seed whose files the guest reads back', async () => {
    const vm = 'ci';
    await d.client.createVm(guestSpec(vm, { cloudInit: { hostname: 'ci-host', userData: '#cloud-config\nruncmd: [echo hi]\n' } }));
    await d.client.action(vm, 'start');
    await waitForLine(d.client, vm, READY);
    const out = await guestShell(d.client, vm, 'mkdir -p /mnt/ci; mount -t iso9660 -o ro /dev/sr0 /mnt/ci && ls /mnt/ci && cat /mnt/ci/meta-data /mnt/ci/user-data');
    const id = (await d.client.getVm(vm)).id;
    expect(out).toContain('network-config');
    expect(out).toContain(`instance-id: ${id}\nlocal-hostname: ci-host\n`);
    expect(out).toContain('runcmd: [echo hi]');
    await d.client.action(vm, 'kill');
  });
});

describe('export and the CLI', () => {
  it('exports a stopped VM\'s disk to several formats with progress, and the CLI shows pools', async () => {
    const vm = 'exp';
    await d.client.createVm(guestSpec(vm, { disks: [{ name: 'root', size: '32Mi' }] }));
    const out = path.join(d.stateDir, 'export');
    const fractions: number[] = [];
    const r = await s.exportVm(vm, { formats: 'vdi,vhdx,vmdk,qcow2', outDir: out }, (p) => fractions.push(p.fraction ?? 0));
    expect((r['files'] as unknown[]).length).toBe(4);
    expect(readdirSync(out).sort()).toEqual(['SHA256SUMS', 'exp-root.qcow2', 'exp-root.vdi', 'exp-root.vhdx', 'exp-root.vmdk']);
    expect(fractions.length).toBeGreaterThan(1);
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), '--socket', d.socket, 'pool', 'list'], { encoding: 'utf8' });
    expect(cli.status).toBe(0);
    expect(cli.stdout).toMatch(/^NAME\s+KIND\s+PATH/);
    expect(cli.stdout).toContain('default*');
    const exp = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), '--socket', d.socket, 'disk', 'export', vm, '--format', 'vpc', '--out', out], { encoding: 'utf8' });
    expect(exp.status, exp.stderr).toBe(0);
    expect(exp.stdout).toContain('exp-root.vhd');
    expect(exp.stderr).toContain('export exp:');
  });
});
