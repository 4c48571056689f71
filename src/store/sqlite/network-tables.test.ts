import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../../shared/index.js';
import type { NetworkRecord } from '../network-store.js';
import { openSqliteStore, type SqliteStore } from './index.js';

let dir: string;
let file: string;
let store: SqliteStore;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-networks-'));
  file = path.join(dir, 'state.db');
  store = openSqliteStore(file);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isPolyvisorError(e) ? e.code : e));

const lab: Omit<NetworkRecord, 'createdAt'> = {
  name: 'lab', mode: 'nat', bridge: 'pvbr-lab', subnet: '10.77.0.0/24', gateway: '10.77.0.1',
  dhcpRange: { start: '10.77.0.100', end: '10.77.0.200' }, dnsDomain: null, uplink: null, vlan: null,
};

describe('sqlite network tables', () => {
  it('creates, reads, lists, updates and deletes networks; names and bridges are unique', async () => {
    const rec = await store.createNetwork(lab);
    expect(rec.createdAt).toMatch(/^\d{4}-/);
    expect(await codeOf(store.createNetwork(lab))).toBe('NETWORK_EXISTS');
    expect(await codeOf(store.createNetwork({ ...lab, name: 'other' }))).toBe('NETWORK_EXISTS');
    await store.createNetwork({ ...lab, name: 'iso', mode: 'isolated', bridge: 'pvbr-iso', dhcpRange: null, vlan: 10 });
    expect((await store.listNetworks()).map((n) => n.name)).toEqual(['iso', 'lab']);
    expect(await store.getNetwork('lab')).toEqual(rec);
    expect(await store.getNetwork('nope')).toBeUndefined();
    const up = await store.updateNetwork('lab', { dnsDomain: 'lab.test' });
    expect(up).toEqual({ ...rec, dnsDomain: 'lab.test' });
    expect(await codeOf(store.updateNetwork('nope', {}))).toBe('NETWORK_NOT_FOUND');
    await store.deleteNetwork('iso');
    expect(await codeOf(store.deleteNetwork('iso'))).toBe('NETWORK_NOT_FOUND');
  });

  it('keeps NIC allocations unique per tap and per address, and drops them with their network', async () => {
    await store.createNetwork(lab);
    const a = { network: 'lab', vm: 'web', nic: 'net0', mac: '52:54:00:00:00:01', ip: '10.77.0.100', tap: 'pvt00000001' };
    await store.putNicAllocation(a);
    await store.putNicAllocation({ ...a, ip: '10.77.0.101' }); // same vm/nic: replaced
    expect(await store.listNicAllocations({ vm: 'web' })).toEqual([{ ...a, ip: '10.77.0.101' }]);
    await expect(store.putNicAllocation({ ...a, vm: 'db', ip: '10.77.0.102' })).rejects.toThrow(/taken/); // tap taken
    await expect(store.putNicAllocation({ ...a, vm: 'db', tap: 'pvt00000002', ip: '10.77.0.101' })).rejects.toThrow(/taken/);
    expect(await codeOf(store.putNicAllocation({ ...a, network: 'nope', vm: 'x', tap: 'pvt9' }))).toBe('NETWORK_NOT_FOUND');
    await store.putNicAllocation({ ...a, vm: 'db', tap: 'pvt00000002', ip: '10.77.0.102' });
    expect((await store.listNicAllocations({ network: 'lab' })).map((n) => n.vm)).toEqual(['db', 'web']);
    expect(await store.deleteNicAllocations('db', 'net9')).toBe(0);
    expect(await store.deleteNicAllocations('db')).toBe(1);
    await store.deleteNetwork('lab');
    expect(await store.listNicAllocations()).toEqual([]);
  });

  it('keeps networks across a reopen', async () => {
    await store.createNetwork(lab);
    await store.close();
    store = openSqliteStore(file);
    expect((await store.getNetwork('lab'))?.subnet).toBe('10.77.0.0/24');
  });
});
