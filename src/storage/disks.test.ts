import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { validateSpec, type VmSpecInput } from '../spec/index.js';
import { checkDiskSources, imageInfo, prepareDisks, removeCreatedDisks, resolveDiskPaths } from './index.js';

const MiB = 1024 ** 2;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-disks-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const spec = (disks: VmSpecInput['disks']) => validateSpec({ name: 'web', disks });
const errOf = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e);

describe('resolveDiskPaths', () => {
  it('keeps given paths and puts size-given disks under <vmDir>/disks', () => {
    const s = spec([
      { name: 'root', size: '2Gi' },
      { name: 'scratch', size: '64Mi', format: 'raw' },
      { name: 'iso', path: '/srv/iso/debian-12.iso', media: 'cdrom' },
      { name: 'data', path: '/var/lib/images/data.qcow2' },
    ]);
    expect(resolveDiskPaths(s, '/var/lib/polyvisor/vms/web')).toEqual({
      root: '/var/lib/polyvisor/vms/web/disks/root.qcow2',
      scratch: '/var/lib/polyvisor/vms/web/disks/scratch.raw',
      iso: '/srv/iso/debian-12.iso',
      data: '/var/lib/images/data.qcow2',
    });
  });

  it('returns an empty map for a diskless (kernel-boot) VM', () => {
    const s = validateSpec({ name: 'k', boot: { kernel: '/boot/vmlinuz' } });
    expect(resolveDiskPaths(s, '/x')).toEqual({});
  });
});

describe('checkDiskSources', () => {
  it('accepts existing regular files and ignores size-given disks', async () => {
    await writeFile(path.join(dir, 'a.qcow2'), '');
    await checkDiskSources(spec([{ name: 'a', path: path.join(dir, 'a.qcow2') }, { name: 'b', size: '1Gi' }]));
  });

  it('lists every missing or non-regular source in one FILE_NOT_FOUND', async () => {
    await mkdir(path.join(dir, 'adir'));
    const err = await errOf(
      checkDiskSources(
        spec([
          { name: 'gone', path: path.join(dir, 'gone.qcow2') },
          { name: 'folder', path: path.join(dir, 'adir') },
        ]),
      ),
    );
    expect(isPolyvisorError(err, 'FILE_NOT_FOUND')).toBe(true);
    expect((err as Error).message).toMatch(/disk gone: .*gone\.qcow2 does not exist; disk folder: .*adir is not a regular file/);
    expect((err as { details: unknown[] }).details).toHaveLength(2);
  });

  it.skipIf(process.getuid?.() === 0)('wants write access unless the disk is read-only', async () => {
    const file = path.join(dir, 'ro.qcow2');
    await writeFile(file, '');
    await chmod(file, 0o444);
    expect(isPolyvisorError(await errOf(checkDiskSources(spec([{ name: 'ro', path: file }]))), 'FILE_NOT_FOUND')).toBe(true);
    await checkDiskSources(spec([{ name: 'ro', path: file, readOnly: true }]));
  });
});

describe('prepareDisks', () => {
  const s = () =>
    spec([
      { name: 'root', size: '32Mi' },
      { name: 'swap', size: '8Mi', format: 'raw' },
      { name: 'iso', path: '/srv/iso/x.iso', media: 'cdrom' },
    ]);

  it('creates the missing images once and is idempotent', async () => {
    const vmDir = path.join(dir, 'web');
    const created = await prepareDisks(s(), vmDir);
    expect(created).toEqual([
      { name: 'root', path: path.join(vmDir, 'disks/root.qcow2'), format: 'qcow2', sizeBytes: 32 * MiB },
      { name: 'swap', path: path.join(vmDir, 'disks/swap.raw'), format: 'raw', sizeBytes: 8 * MiB },
    ]);
    expect(await imageInfo(created[0]!.path)).toMatchObject({ format: 'qcow2', virtualSize: 32 * MiB });
    expect(await imageInfo(created[1]!.path)).toMatchObject({ format: 'raw', virtualSize: 8 * MiB });
    const mtime = (await stat(created[0]!.path)).mtimeMs;

    expect(await prepareDisks(s(), vmDir)).toEqual([]);
    expect((await stat(created[0]!.path)).mtimeMs).toBe(mtime);

    await removeCreatedDisks(created.slice(0, 1));
    expect((await prepareDisks(s(), vmDir)).map((d) => d.name)).toEqual(['root']);

    await removeCreatedDisks(created);
    await removeCreatedDisks(created); // already gone is fine
    expect(await readdir(path.join(vmDir, 'disks'))).toEqual([]);
  });

  it('removes what it created when a later disk fails', async () => {
    const vmDir = path.join(dir, 'web');
    await mkdir(path.join(vmDir, 'disks/swap.raw'), { recursive: true }); // a directory where an image belongs
    const err = await errOf(prepareDisks(s(), vmDir));
    expect(isPolyvisorError(err, 'DISK_CREATE_FAILED')).toBe(true);
    expect(await readdir(path.join(vmDir, 'disks'))).toEqual(['swap.raw']);
  });

  it('stops on abort and leaves nothing behind', async () => {
    const ac = new AbortController();
    ac.abort();
    const vmDir = path.join(dir, 'web');
    expect(isPolyvisorError(await errOf(prepareDisks(s(), vmDir, { signal: ac.signal })), 'ABORTED')).toBe(true);
    expect(await readdir(path.join(vmDir, 'disks'))).toEqual([]);
  });
});
