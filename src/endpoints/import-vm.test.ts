/**
 * The import flow (move.toLocal) on the in-memory stand-in endpoint of
 * test/helpers/mem-driver.ts and the stub driver (no QEMU process: the VM is
 * imported with start: false), with real SQLite and real qemu-img: the local
 * disk holds the source's bytes, a running source is refused unless
 * shutdown, and a download that breaks halfway leaves no VM and no file.
 * The real drivers' imports (vSphere on vcsim, libvirt) boot the guest in
 * their own integration files.
 */
import { writeFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memDiskBytes, memDriver, type MemDriver, MemSecrets } from '../../test/helpers/mem-driver.js';
import { DriverRegistry } from '../drivers/index.js';
import { stubDriver } from '../drivers/stub-driver.js';
import { VmService } from '../lifecycle/index.js';
import { isPolyvisorError, silentLogger } from '../shared/index.js';
import { compareImages, managedDiskPath } from '../storage/index.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import { EndpointService } from './endpoint-service.js';

let dir: string;
let vms: VmService;
let close: () => void;
const ctx = () => ({ signal: AbortSignal.timeout(60_000), progress: (f: number) => { seen.push(f); } });
let seen: number[] = [];

async function endpointWith(d: MemDriver): Promise<EndpointService> {
  const svc = new EndpointService({ drivers: new DriverRegistry().add(d.driver), secrets: new MemSecrets(), localRows: async () => [], logger: silentLogger, vms, stagingDir: path.join(dir, 'imports') });
  await svc.add({ name: 'm', driver: 'mem', url: 'mem://x' }, AbortSignal.timeout(5000));
  return svc;
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-import-'));
  const store = openSqliteStore(path.join(dir, 'state.db'));
  vms = new VmService({ store, driver: stubDriver, host: 'h', vmsDir: path.join(dir, 'vms'), logger: silentLogger });
  close = () => store.close();
  seen = [];
});
afterEach(async () => {
  close();
  await rm(dir, { recursive: true, force: true });
});

describe('importing a VM of another endpoint (in-memory stand-in endpoint, stub driver, real qemu-img)', () => {
  it('copies the disk byte for byte into a local qcow2, maps the config and lists what did not map', async () => {
    const svc = await endpointWith(memDriver());
    const r = await svc.importVm('m', 'a', { name: 'a-local', start: false }, ctx());
    expect(r.vm.name).toBe('a-local');
    expect(r.vm.spec.memory).toBe(256 * 1024 ** 2);
    expect(r.lossy).toEqual(['network net0: the in-memory network is not kept']);
    const disk = r.vm.spec.disks[0]!;
    expect(disk.format).toBe('qcow2');
    const src = path.join(dir, 'src.raw');
    await writeFile(src, memDiskBytes('a'));
    expect(await compareImages(src, 'raw', managedDiskPath(disk, vms.dirOf(r.vm)), 'qcow2')).toBe(true);
    expect(seen.length).toBeGreaterThan(1);
    expect(await readdir(path.join(dir, 'imports'))).toEqual([]);
  });

  it('refuses a running source unless shutdown, and with shutdown stops it first', async () => {
    const d = memDriver();
    const svc = await endpointWith(d);
    const err = await svc.importVm('m', 'b', { start: false }, ctx()).catch((e: unknown) => e);
    expect(isPolyvisorError(err, 'FOREIGN_VM_RUNNING')).toBe(true);
    expect(await vms.list()).toEqual([]);
    const r = await svc.importVm('m', 'b', { shutdown: true, start: false }, ctx());
    expect(r.vm.name).toBe('b');
    expect(d.vms.get('b')!.state).toBe('stopped');
    expect(d.calls).toContain('shutdown b');
  });

  it('a download that breaks halfway leaves no VM, no disk and no staged file', async () => {
    const svc = await endpointWith(memDriver({ failDownloadAfter: 512 * 1024 }));
    const err = await svc.importVm('m', 'a', { start: false }, ctx()).catch((e: unknown) => e);
    expect(isPolyvisorError(err, 'ENDPOINT_LOST')).toBe(true);
    expect(await vms.list()).toEqual([]);
    expect(await readdir(path.join(dir, 'imports'))).toEqual([]);
    expect(await readdir(path.join(dir, 'vms')).catch(() => [])).toEqual([]);
  });

  it('refuses a name that exists, and a source name that is not a valid VM name without --name', async () => {
    const d = memDriver();
    d.vms.set('bad name!', { ...d.vms.get('a')!, name: 'bad name!' });
    const svc = await endpointWith(d);
    await svc.importVm('m', 'a', { start: false }, ctx());
    expect(isPolyvisorError(await svc.importVm('m', 'a', { start: false }, ctx()).catch((e: unknown) => e), 'VM_EXISTS')).toBe(true);
    expect(isPolyvisorError(await svc.importVm('m', 'bad name!', { start: false }, ctx()).catch((e: unknown) => e), 'INVALID_NAME')).toBe(true);
  });
});
