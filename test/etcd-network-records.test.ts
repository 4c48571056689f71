/**
 * Issue 19: networks and their NIC allocations in the cluster store, on a
 * real 1-member etcd (scripts/etcd.sh). The same rules as the SQLite tables
 * (src/store/sqlite/network-tables.test.ts), plus what only a shared store
 * has: two members (two store clients) see one network, one VNI per network
 * kept for good, unique even when members create networks at the same time,
 * and an address taken on one member is refused on the other.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isPolyvisorError, newUuid } from '../src/shared/index.js';
import { openEtcdStore, type EtcdStore } from '../src/store/etcd/index.js';
import type { NetworkRecord } from '../src/store/index.js';
import { startEtcd, type TestEtcd } from './helpers/etcd.js';

let etcd: TestEtcd;
let a: EtcdStore;
let b: EtcdStore;
let prefix = '';
beforeAll(async () => {
  etcd = await startEtcd(1, 'etcd-nets');
});
afterAll(() => etcd?.stop());
beforeEach(() => {
  prefix = `/pvtest-net-${newUuid()}/`;
  a = openEtcdStore({ endpoints: etcd.endpoints, prefix });
  b = openEtcdStore({ endpoints: etcd.endpoints, prefix });
});
afterEach(async () => {
  await a.kv.delete(prefix, { prefix: true });
  await a.close();
  await b.close();
});

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isPolyvisorError(e) ? e.code : e));

const lab: Omit<NetworkRecord, 'createdAt'> = {
  name: 'lab', mode: 'nat', bridge: 'pvbr-lab', subnet: '10.77.0.0/24', gateway: '10.77.0.1',
  dhcpRange: { start: '10.77.0.100', end: '10.77.0.200' }, dnsDomain: null, uplink: null, vlan: null,
};

describe('etcd network records', () => {
  it('creates, reads, lists, updates and deletes networks; names and bridges are unique; each gets a VNI it keeps', async () => {
    expect(a.spansHosts).toBe(true);
    const rec = await a.createNetwork(lab);
    expect(rec.createdAt).toMatch(/^\d{4}-/);
    expect(rec.vni).toBe(10_000);
    expect(await codeOf(b.createNetwork(lab))).toBe('NETWORK_EXISTS');
    expect(await codeOf(b.createNetwork({ ...lab, name: 'other' }))).toBe('NETWORK_EXISTS');
    const iso = await b.createNetwork({ ...lab, name: 'iso', mode: 'isolated', bridge: 'pvbr-iso', dhcpRange: null });
    expect(iso.vni).toBe(10_001);
    expect((await b.listNetworks()).map((n) => n.name)).toEqual(['iso', 'lab']);
    expect(await b.getNetwork('lab')).toEqual(rec);
    expect(await a.getNetwork('nope')).toBeUndefined();
    const up = await b.updateNetwork('lab', { dnsDomain: 'lab.test', vni: 7 });
    expect(up).toEqual({ ...rec, dnsDomain: 'lab.test' });
    expect(await a.getNetwork('lab')).toEqual(up);
    expect(await codeOf(a.updateNetwork('nope', {}))).toBe('NETWORK_NOT_FOUND');
    await a.deleteNetwork('iso');
    expect(await codeOf(b.deleteNetwork('iso'))).toBe('NETWORK_NOT_FOUND');
    // The bridge name is free again; the VNI is not handed out twice.
    expect((await b.createNetwork({ ...lab, name: 'iso2', bridge: 'pvbr-iso' })).vni).toBe(10_002);
  });

  it('members creating networks at the same time get distinct VNIs', async () => {
    const made = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      (i % 2 === 0 ? a : b).createNetwork({ ...lab, name: `n${i}`, bridge: `pvbr-n${i}` })));
    const vnis = made.map((r) => r.vni);
    expect(new Set(vnis).size).toBe(8);
    expect([...vnis].sort()).toEqual(Array.from({ length: 8 }, (_, i) => 10_000 + i));
  });

  it('keeps NIC allocations unique per tap and per address across members, and drops them with their network', async () => {
    await a.createNetwork(lab);
    const n = { network: 'lab', vm: 'web', nic: 'net0', mac: '52:54:00:00:00:01', ip: '10.77.0.100', tap: 'pvt00000001' };
    await a.putNicAllocation(n);
    await a.putNicAllocation({ ...n, ip: '10.77.0.101' }); // same vm/nic: replaced, .100 is free again
    expect(await b.listNicAllocations({ vm: 'web' })).toEqual([{ ...n, ip: '10.77.0.101' }]);
    await expect(b.putNicAllocation({ ...n, vm: 'db', ip: '10.77.0.102' })).rejects.toThrow(/taken/); // tap taken
    await expect(b.putNicAllocation({ ...n, vm: 'db', tap: 'pvt00000002', ip: '10.77.0.101' })).rejects.toThrow(/taken/);
    expect(await codeOf(b.putNicAllocation({ ...n, network: 'nope', vm: 'x', tap: 'pvt9' }))).toBe('NETWORK_NOT_FOUND');
    await b.putNicAllocation({ ...n, vm: 'db', tap: 'pvt00000002', ip: '10.77.0.100' });
    await b.putNicAllocation({ ...n, vm: 'web2', nic: 'net0', tap: 'pvt00000003', ip: null });
    expect((await a.listNicAllocations({ network: 'lab' })).map((x) => x.vm)).toEqual(['db', 'web', 'web2']);
    expect((await a.listNicAllocations({ vm: 'web' })).map((x) => x.vm)).toEqual(['web']); // not web2
    expect(await a.deleteNicAllocations('db', 'net9')).toBe(0);
    expect(await a.deleteNicAllocations('db')).toBe(1);
    await b.putNicAllocation({ ...n, vm: 'db2', tap: 'pvt00000004', ip: '10.77.0.100' }); // db's address went with it
    await a.deleteNetwork('lab');
    expect(await b.listNicAllocations()).toEqual([]);
    expect((await a.kv.range(`${prefix}network-ips/`, { prefix: true })).kvs).toEqual([]);
  });
});
