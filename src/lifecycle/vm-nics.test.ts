import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemHostNetworks } from '../../test/helpers/mem-networks.js';
import type { Driver, LaunchPlan } from '../drivers/index.js';
import { stubDriver } from '../drivers/stub-driver.js';
import { isPolyvisorError, silentLogger } from '../shared/index.js';
import { validateSpec } from '../spec/index.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/index.js';
import { NetworkService } from './network-service.js';
import { VmService } from './vm-service.js';

let dir: string;
let store: SqliteStore;
let host: MemHostNetworks;
let plans: LaunchPlan[];
let vms: VmService;
let nets: NetworkService;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-vmnics-'));
  await mkdir(path.join(dir, 'vms'));
  store = openSqliteStore(path.join(dir, 'state.db'));
  host = new MemHostNetworks();
  plans = [];
  // The stub driver fails every start (QEMU_MISSING) after it saw the plan: a start failing once the NICs are attached.
  const driver: Driver = { ...stubDriver, start: async (plan, signal) => { plans.push(plan); return stubDriver.start(plan, signal); } };
  nets = new NetworkService({ store, vms: () => vms.list(), host, hostRoutes: async () => [], logger: silentLogger });
  vms = new VmService({ store, driver, host: 'h', vmsDir: path.join(dir, 'vms'), logger: silentLogger, nics: nets, readMeminfo: async () => 'MemAvailable: 99999999 kB\n' });
});
afterEach(async () => {
  await vms.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isPolyvisorError(e) ? e.code : e));
const spec = (name: string, networks: unknown[]) => validateSpec({ name, memory: '64Mi', boot: { kernel: '/bin/true' }, networks });

describe('VM starts with NICs on virtual networks', () => {
  it('attaches the taps before QEMU starts, hands them to the driver, and detaches them when the start fails', async () => {
    await nets.create({ name: 'lab', mode: 'nat', subnet: '10.80.0.0/24' });
    await vms.create(spec('web', [{ network: 'lab' }, { name: 'u' }]));
    expect(await codeOf(vms.start('web'))).toBe('QEMU_MISSING');
    expect(plans).toHaveLength(1);
    const tap = plans[0]!.taps?.['net0'];
    expect(tap).toMatch(/^pvt-[0-9a-f]{11}$/);
    expect(host.calls.filter((c) => c.op === 'attach')).toEqual([{ op: 'attach', vm: 'web', nic: 'net0', tap }]);
    expect(host.taps.size).toBe(0); // detached again
    expect((await vms.get('web')).state).toBe('stopped');
    expect((await nets.show('lab')).nics).toEqual([expect.objectContaining({ vm: 'web', nic: 'net0', ip: '10.80.0.2', tap })]);
  });

  it('refuses a start on a missing network before anything runs, and frees the addresses when the VM goes', async () => {
    await vms.create(spec('lost', [{ network: 'nope' }]));
    expect(await codeOf(vms.start('lost'))).toBe('NETWORK_NOT_FOUND');
    expect(plans).toHaveLength(0);
    await nets.create({ name: 'lab', mode: 'nat' });
    await vms.create(spec('web', [{ network: 'lab' }]));
    await codeOf(vms.start('web'));
    expect(await codeOf(nets.remove('lab'))).toBe('NETWORK_IN_USE');
    await vms.remove('web');
    expect((await nets.show('lab')).nics).toEqual([]);
    await nets.remove('lab');
  });

  it('a daemon without networks refuses such a VM with NETWORK_UNAVAILABLE', async () => {
    const plain = new VmService({ store, driver: stubDriver, host: 'h', vmsDir: path.join(dir, 'vms'), logger: silentLogger, readMeminfo: async () => 'MemAvailable: 99999999 kB\n' });
    await plain.create(spec('x', [{ network: 'lab' }]));
    expect(await codeOf(plain.start('x'))).toBe('NETWORK_UNAVAILABLE');
    await plain.close();
  });
});
