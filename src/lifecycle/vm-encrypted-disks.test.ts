import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stubDriver } from '../drivers/stub-driver.js';
import { SecretStore } from '../secrets/index.js';
import { isPolyvisorError, silentLogger } from '../shared/index.js';
import { validateSpec } from '../spec/index.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/index.js';
import { VmService } from './vm-service.js';

// Real secrets store, real qemu-img and SQLite; the stub driver stands in for QEMU (nothing boots here).
let dir: string;
let store: SqliteStore;
let keys: SecretStore;
let vms: VmService;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-vmenc-'));
  await mkdir(path.join(dir, 'vms'));
  store = openSqliteStore(path.join(dir, 'state.db'));
  keys = await SecretStore.open({ stateDir: dir });
  vms = new VmService({ store, driver: stubDriver, host: 'h', vmsDir: path.join(dir, 'vms'), logger: silentLogger, diskKeys: keys, readMeminfo: async () => 'MemAvailable: 99999999 kB\n' });
});
afterEach(async () => {
  await vms.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const spec = (name: string) => validateSpec({ name, memory: '64Mi', boot: { kernel: '/bin/true' }, disks: [{ name: 'data', size: '4Mi', encrypt: true }, { name: 'plain', size: '4Mi' }] });
const names = async () => (await keys.list()).map((s) => s.name);

describe('VmService with encrypted disks', () => {
  it('a create that fails after the disks were made leaves no VM, no directory and no passphrase', async () => {
    const err = await vms.create(spec('broken'), async () => {
      throw new Error('fill failed');
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('fill failed');
    expect(await names()).toEqual([]);
    expect(await readdir(path.join(dir, 'vms'))).toEqual([]);
    expect(await store.getVm('broken')).toBeFalsy();
  }, 60_000);

  it('a create stores one passphrase (the encrypted disk\'s), the plan names its key file, and removal drops it', async () => {
    const rec = await vms.create(spec('ok'));
    expect(await names()).toEqual([`disk.${rec.id}.data`]);
    const plan = vms.plan(rec);
    expect(plan.diskSecrets).toEqual({ data: path.join(dir, 'vms', rec.id, 'keys', 'data.secret') });
    expect([...(await vms.imagePassphrases(rec)).keys()]).toEqual([path.join(dir, 'vms', rec.id, 'disks', 'data.qcow2')]);
    await vms.remove('ok');
    expect(await names()).toEqual([]);
  }, 60_000);

  it('without a secrets store an encrypted disk is refused before anything is made', async () => {
    const bare = new VmService({ store, driver: stubDriver, host: 'h', vmsDir: path.join(dir, 'vms'), logger: silentLogger });
    const err = await bare.create(spec('nokeys')).catch((e: unknown) => e);
    expect(isPolyvisorError(err, 'ENCRYPTED_DISK_UNSUPPORTED')).toBe(true);
    expect(await readdir(path.join(dir, 'vms'))).toEqual([]);
    await bare.close();
  });
});
