/**
 * vm move VM --to ENDPOINT (move.fromLocal) on the in-memory stand-in endpoint
 * of test/helpers/mem-driver.ts and the stub driver (no QEMU process), with
 * real SQLite and real qemu-img: the endpoint gets the VM with its disk's
 * bytes as qcow2, the local VM goes (or stays with keep), and a definition the
 * endpoint refuses leaves the local VM as it was and no copied file.
 * The libvirt driver's own test moves a VM to a real libvirtd.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memDriver, type MemDriver, MemSecrets } from '../../test/helpers/mem-driver.js';
import { DriverRegistry } from '../drivers/index.js';
import { stubDriver } from '../drivers/stub-driver.js';
import { VmService } from '../lifecycle/index.js';
import { isPolyvisorError, silentLogger } from '../shared/index.js';
import { validateSpec } from '../spec/index.js';
import { compareImages, convertDisk, managedDiskPath } from '../storage/index.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import { EndpointService } from './endpoint-service.js';

let dir: string;
let vms: VmService;
let close: () => void;
const ctx = () => ({ signal: AbortSignal.timeout(60_000), progress: () => undefined });

async function setup(o: { failDefine?: boolean } = {}): Promise<{ svc: EndpointService; d: MemDriver; src: string }> {
  const d = memDriver({ diskRoot: path.join(dir, 'remote'), ...o });
  const svc = new EndpointService({ drivers: new DriverRegistry().add(d.driver), secrets: new MemSecrets(), localRows: async () => [], logger: silentLogger, vms, stagingDir: path.join(dir, 'imports') });
  await svc.add({ name: 'm', driver: 'mem', url: 'mem://x' }, AbortSignal.timeout(5000));
  const rec = await vms.create(validateSpec({ name: 'web', memory: '128Mi', disks: [{ name: 'root', size: '4Mi' }] }));
  // Some bytes in the local disk, so the copy has something to prove.
  const raw = path.join(dir, 'data.raw');
  await writeFile(raw, Buffer.alloc(4 * 1024 ** 2, 'polyvisor-move-'));
  const src = managedDiskPath(rec.spec.disks[0]!, vms.dirOf(rec));
  await convertDisk(raw, src, { to: 'qcow2', from: 'raw', overwrite: true });
  return { svc, d, src: raw };
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-move-out-'));
  const store = openSqliteStore(path.join(dir, 'state.db'));
  vms = new VmService({ store, driver: stubDriver, host: 'h', vmsDir: path.join(dir, 'vms'), logger: silentLogger });
  close = () => store.close();
});
afterEach(async () => {
  close();
  await rm(dir, { recursive: true, force: true });
});

describe('moving a local VM to another endpoint (in-memory stand-in endpoint, stub driver, real qemu-img)', () => {
  it('defines it there with its disk copied as qcow2, then removes the local VM', async () => {
    const { svc, d, src } = await setup();
    const r = await svc.moveOut('web', 'm', {}, ctx());
    expect(r).toMatchObject({ endpoint: 'm', copied: ['root'], shared: [], localRemoved: true });
    expect(r.vm.ref).toBe('m/web');
    const copy = d.vms.get('web')!.disks[0]!;
    expect(copy).toMatchObject({ name: 'root', format: 'qcow2' });
    expect(await compareImages(src, 'raw', copy.location!, 'qcow2')).toBe(true);
    expect(await vms.find('web')).toBeUndefined();
  });

  it('keep leaves the local VM; a name the endpoint has is refused', async () => {
    const { svc } = await setup();
    await svc.moveOut('web', 'm', { keep: true }, ctx());
    expect((await vms.get('web')).state).toBe('created');
    expect(isPolyvisorError(await svc.moveOut('web', 'm', {}, ctx()).catch((e: unknown) => e), 'VM_EXISTS')).toBe(true);
  });

  it('a definition the endpoint refuses leaves the local VM as it was and no copied file', async () => {
    const { svc } = await setup({ failDefine: true });
    const err = await svc.moveOut('web', 'm', {}, ctx()).catch((e: unknown) => e);
    expect(isPolyvisorError(err, 'ENDPOINT_TASK_FAILED')).toBe(true);
    expect((await vms.get('web')).state).toBe('created');
    expect(await readdir(path.join(dir, 'remote', 'web'))).toEqual([]);
  });
});
