import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../../shared/index.js';
import { compareImages } from '../convert-any.js';
import { PoolService } from './pool-service.js';

const MiB = 1024 ** 2;
let dir: string;
let svc: PoolService;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-pools-'));
  svc = new PoolService({ stateDir: dir });
  await svc.init();
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (isPolyvisorError(e) ? e.code : e));

describe('pools', () => {
  it('has a default dir pool under the state dir, with capacity and usage', async () => {
    const [p] = await svc.listPools();
    expect(p).toMatchObject({ name: 'default', kind: 'dir', path: path.join(dir, 'pools', 'default'), default: true, volumes: 0 });
    expect(p!.capacityBytes).toBeGreaterThan(p!.freeBytes);
    expect(p!.freeBytes).toBeGreaterThan(0);
  });

  it('adds a pool (persisted), refuses duplicates and overlaps, removes it only when empty', async () => {
    const extra = path.join(dir, 'fast');
    await svc.addPool({ name: 'fast', path: extra });
    expect(JSON.parse(await readFile(path.join(dir, 'pools.json'), 'utf8')).pools).toEqual([{ name: 'fast', kind: 'dir', path: extra }]);
    expect((await new PoolService({ stateDir: dir }).listPools()).map((p) => p.name)).toEqual(['default', 'fast']);
    expect(await codeOf(svc.addPool({ name: 'fast', path: path.join(dir, 'x') }))).toBe('POOL_EXISTS');
    expect(await codeOf(svc.addPool({ name: 'nested', path: path.join(extra, 'sub') }))).toBe('INVALID_PATH');
    expect(await codeOf(svc.addPool({ name: 'rel', path: 'relative/dir' }))).toBe('INVALID_PATH');
    await svc.createVolume('fast', { name: 'v', sizeBytes: MiB });
    expect(await codeOf(svc.removePool('fast'))).toBe('POOL_IN_USE');
    expect(await codeOf(svc.removePool('default'))).toBe('POOL_IN_USE');
    await svc.deleteVolume('fast', 'v');
    await svc.removePool('fast');
    expect(await codeOf(svc.getPool('fast'))).toBe('POOL_NOT_FOUND');
  });
});

describe('volumes', () => {
  it('creates qcow2 and raw volumes, reports them, resizes, deletes', async () => {
    const q = await svc.createVolume('default', { name: 'root', sizeBytes: 64 * MiB });
    expect(q).toMatchObject({ pool: 'default', name: 'root', format: 'qcow2', virtualSize: 64 * MiB, backingFile: null });
    expect(q.path).toBe(path.join(dir, 'pools/default/root.qcow2'));
    await svc.createVolume('default', { name: 'swap', format: 'raw', sizeBytes: 8 * MiB });
    expect((await svc.listVolumes('default')).map((v) => `${v.name}.${v.format}`)).toEqual(['root.qcow2', 'swap.raw']);
    expect(await codeOf(svc.createVolume('default', { name: 'root', format: 'raw', sizeBytes: MiB }))).toBe('VOLUME_EXISTS');
    expect((await svc.resizeVolume('default', 'root', 128 * MiB)).virtualSize).toBe(128 * MiB);
    expect(await codeOf(svc.resizeVolume('default', 'root', MiB))).toBe('INVALID_ARGUMENT');
    expect((await svc.getPool('default')).volumes).toBe(2);
    await svc.deleteVolume('default', 'swap');
    expect(await codeOf(svc.getVolume('default', 'swap'))).toBe('VOLUME_NOT_FOUND');
  });

  it('refuses names that escape the pool and sizes beyond the free space, leaving nothing', async () => {
    for (const name of ['../evil', 'a/b', '.hidden', '..', '']) {
      expect(await codeOf(svc.createVolume('default', { name, sizeBytes: MiB })), name).toBe('INVALID_NAME');
    }
    expect(await codeOf(svc.createVolume('../x', { name: 'v', sizeBytes: MiB }))).toBe('INVALID_NAME');
    const free = (await svc.getPool('default')).freeBytes;
    expect(await codeOf(svc.createVolume('default', { name: 'huge', sizeBytes: free + 1024 ** 3 }))).toBe('INSUFFICIENT_SPACE');
    await svc.createVolume('default', { name: 'small', sizeBytes: MiB });
    expect(await codeOf(svc.resizeVolume('default', 'small', free + 1024 ** 3))).toBe('INSUFFICIENT_SPACE');
    expect(await readdir(path.join(dir, 'pools/default'))).toEqual(['small.qcow2']);
  });

  it('full clones copy; linked clones share their base, which cannot be deleted under them', async () => {
    await svc.createVolume('default', { name: 'base', format: 'raw', sizeBytes: 16 * MiB });
    const full = await svc.cloneVolume('default', 'base', { name: 'copy', linked: false, format: 'qcow2' });
    expect(full).toMatchObject({ format: 'qcow2', virtualSize: 16 * MiB, backingFile: null });
    const base = await svc.getVolume('default', 'base');
    expect(await compareImages(base.path, 'raw', full.path, 'qcow2')).toBe(true);
    const linked = await svc.cloneVolume('default', 'base', { name: 'thin', linked: true });
    expect(linked).toMatchObject({ format: 'qcow2', virtualSize: 16 * MiB, backingFile: base.path });
    expect(linked.actualSize!).toBeLessThan(1024 * 1024);
    expect((await svc.dependentsOf(base.path)).map((v) => v.name)).toEqual(['thin']);
    const err = await svc.deleteVolume('default', 'base').catch((e: unknown) => e);
    expect(isPolyvisorError(err, 'VOLUME_IN_USE')).toBe(true);
    expect((err as Error).message).toContain('default/thin');
    await svc.deleteVolume('default', 'thin');
    await svc.deleteVolume('default', 'base');
  });
});
