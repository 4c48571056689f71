import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemHostNetworks } from '../../test/helpers/mem-networks.js';
import { isPolyvisorError, silentLogger } from '../shared/index.js';
import { validateSpec, type VmState } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/index.js';
import { NetworkService } from './network-service.js';

let dir: string;
let store: SqliteStore;
let host: MemHostNetworks;
let vms: VmRecord[];
let svc: NetworkService;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-netsvc-'));
  store = openSqliteStore(path.join(dir, 'state.db'));
  host = new MemHostNetworks();
  vms = [];
  svc = new NetworkService({ store, vms: async () => vms, host, hostRoutes: async () => [], logger: silentLogger });
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isPolyvisorError(e) ? e.code : e));
const vm = (name: string, networks: unknown[], state: VmState = 'stopped'): VmRecord => ({
  id: `id-${name}`, name, spec: validateSpec({ name, boot: { kernel: '/k' }, networks }), state, stateReason: '', host: 'h', runtime: null,
  createdAt: '', updatedAt: '', generation: 1,
});

describe('NetworkService', () => {
  it('creates a NAT network with defaults, stores it and builds it on the host', async () => {
    const n = await svc.create({ name: 'lab', mode: 'nat' });
    expect(n).toMatchObject({ name: 'lab', mode: 'nat', bridge: 'pvbr-lab', subnet: '10.123.0.0/24', gateway: '10.123.0.1', dnsDomain: 'lab', nics: [] });
    expect(host.networks.get('lab')?.subnet).toBe('10.123.0.0/24');
    const second = await svc.create({ name: 'lab2', mode: 'isolated' });
    expect(second.subnet).toBe('10.123.1.0/24'); // the first one is taken
    expect(await codeOf(svc.create({ name: 'lab', mode: 'nat' }))).toBe('NETWORK_EXISTS');
    expect((await svc.list()).map((x) => x.name)).toEqual(['lab', 'lab2']);
  });

  it('refuses bad input and leaves nothing half-created when the host fails', async () => {
    await svc.create({ name: 'lab', mode: 'nat', subnet: '10.50.0.0/24' });
    expect(await codeOf(svc.create({ name: 'over', mode: 'nat', subnet: '10.50.0.0/16' }))).toBe('SUBNET_OVERLAP');
    expect(await codeOf(svc.create({ name: 'bad', mode: 'nat', subnet: '10.60.0.0/33' }))).toBe('NETWORK_INVALID');
    expect(await codeOf(svc.create({ name: 'br', mode: 'bridge' }))).toBe('NETWORK_INVALID'); // no uplink
    host.failOn = { op: 'ensure', network: 'boom' };
    await expect(svc.create({ name: 'boom', mode: 'nat' })).rejects.toThrow(/injected/);
    expect(await store.getNetwork('boom')).toBeUndefined();
    expect(host.networks.has('boom')).toBe(false);
    expect(host.calls.at(-1)).toEqual({ op: 'remove', network: 'boom' });
  });

  it('allocates stable addresses and taps, attaches before a start and detaches after', async () => {
    await svc.create({ name: 'lab', mode: 'nat', subnet: '10.70.0.0/24' });
    const a = vm('a', [{ network: 'lab' }, { name: 'net1', network: 'lab', ip: '10.70.0.50' }]);
    const b = vm('b', [{ network: 'lab' }]);
    vms = [a, b];
    const tapsA = await svc.attachVm(a);
    const tapsB = await svc.attachVm(b);
    expect(Object.values({ ...tapsA, ...tapsB }).every((t) => t.length <= 15)).toBe(true);
    expect(new Set([...Object.values(tapsA), ...Object.values(tapsB)]).size).toBe(3);
    const show = await svc.show('lab');
    expect(show.nics.map((n) => [n.vm, n.nic, n.ip])).toEqual([['a', 'net0', '10.70.0.2'], ['a', 'net1', '10.70.0.50'], ['b', 'net0', '10.70.0.3']]);
    expect(show.leases.map((l) => [l.hostname, l.ip])).toContainEqual(['b', '10.70.0.3']);
    expect(host.taps.get('a/net0')).toMatchObject({ mac: show.nics[0]!.mac, antiSpoof: true, linkUp: true, firewall: null });
    await svc.detachVm(a);
    expect(host.taps.has('a/net0')).toBe(false);
    expect(await svc.attachVm(a)).toEqual(tapsA); // same taps and addresses on the next start
    expect((await svc.show('lab')).nics[0]!.ip).toBe('10.70.0.2');
    const c = vm('c', [{ network: 'lab', ip: '10.70.0.50' }]);
    expect(await codeOf(svc.attachVm(c))).toBe('NETWORK_INVALID'); // reserved for a/net1
  });

  it('detaches what it attached when a start fails halfway, and refuses a missing network', async () => {
    await svc.create({ name: 'lab', mode: 'nat' });
    const a = vm('a', [{ network: 'lab' }, { name: 'net1', network: 'lab' }]);
    host.failOn = { op: 'attach', nic: 'net1' };
    await expect(svc.attachVm(a)).rejects.toThrow(/injected/);
    expect(host.taps.size).toBe(0);
    expect(await codeOf(svc.attachVm(vm('x', [{ network: 'nope' }])))).toBe('NETWORK_NOT_FOUND');
  });

  it('refuses to remove a network in use, naming the VMs; removes it from host and store otherwise', async () => {
    await svc.create({ name: 'lab', mode: 'nat' });
    vms = [vm('a', [{ network: 'lab' }]), vm('b', [{}])];
    const err = await svc.remove('lab').catch((e: unknown) => e);
    expect(isPolyvisorError(err, 'NETWORK_IN_USE') && err.message).toMatch(/\ba\b/);
    vms = [];
    await svc.remove('lab');
    expect(host.networks.size).toBe(0);
    expect(await codeOf(svc.show('lab'))).toBe('NETWORK_NOT_FOUND');
  });

  it('reconciles stored networks and the NICs of running VMs; makes `default` once; says when it cannot build networks', async () => {
    await svc.reconcile();
    expect(host.calls).toEqual([]); // no network was ever made: nothing on the host is touched
    expect((await svc.ensureDefault())?.name).toBe('default');
    expect(await svc.ensureDefault()).toBeUndefined();
    const a = vm('a', [{ network: 'default' }], 'running');
    const b = vm('b', [{ network: 'default' }], 'stopped');
    vms = [a, b];
    await svc.attachVm(a);
    await svc.attachVm(b);
    await svc.reconcile();
    expect(host.calls.at(-1)).toEqual({ op: 'reconcile', networks: ['default'], nics: ['a/net0'] });
    expect(host.networks.get('default')?.reservations.map((r) => r.hostname)).toEqual(['a', 'b']);
    const none = new NetworkService({ store, vms: async () => vms, host: null, logger: silentLogger });
    expect(await none.ensureDefault()).toBeUndefined();
    expect(await codeOf(none.create({ name: 'x', mode: 'nat' }))).toBe('NETWORK_UNAVAILABLE');
    expect(await codeOf(none.attachVm(a))).toBe('NETWORK_UNAVAILABLE');
    await svc.forgetVm('a');
    expect((await svc.show('default')).nics.map((n) => n.vm)).toEqual(['b']);
  });

  it('refuses a VLAN network on a kernel without bridge VLAN filtering before storing or building anything', async () => {
    const noVlan = Object.assign(new MemHostNetworks(), {
      vlanSupport: async () => ({ bridgeVlanFiltering: false, dot1q: false, detail: 'bridge vlan_filtering: Operation not supported' }),
    });
    const s2 = new NetworkService({ store, vms: async () => vms, host: noVlan, hostRoutes: async () => [], logger: silentLogger });
    expect(await codeOf(s2.create({ name: 'v10', mode: 'isolated', vlan: 10 }))).toBe('NETWORK_VLAN_UNSUPPORTED');
    expect(noVlan.calls).toEqual([]);
    expect(await store.getNetwork('v10')).toBeFalsy();
    expect(await codeOf(s2.create({ name: 'flat', mode: 'isolated' }))).toBe('ok');
    expect(await s2.vlanSupport()).toMatchObject({ bridgeVlanFiltering: false });
    expect(await svc.vlanSupport()).toBeNull();
  });
});
