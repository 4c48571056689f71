import { describe, expect, it } from 'vitest';
import { compileRequest } from './compiled-request.js';
import {
  affinityFilter, antiAffinityFilter, cpuFilter, diskFilter, memoryFilter, poolFilter, selectorFilter, stateFilter,
  storageFilter, type FilterFn,
} from './filters.js';
import { LiveHost, whereaboutsOf } from './live-host.js';
import { DEFAULT_POLICY, resolvePolicy } from './policy.js';
import { GiB, host, vm } from './test-hosts.js';
import type { HostCandidate, PlacementRequest, Policy } from './types.js';

function run(fn: FilterFn, req: PlacementRequest, h: HostCandidate, p: Policy = DEFAULT_POLICY, others: HostCandidate[] = []) {
  const live = [new LiveHost(h), ...others.map((o) => new LiveHost(o))];
  return fn(compileRequest(req, p), live[0]!, p, whereaboutsOf(live));
}

describe('scheduler filters', () => {
  it('state: only ready hosts pass; cordoned, draining and down are refused with the state named', () => {
    expect(run(stateFilter, vm('a'), host('h'))).toBeUndefined();
    for (const state of ['cordoned', 'draining', 'down'] as const) {
      expect(run(stateFilter, vm('a'), host('h', { state }))).toBe(`host is ${state}; only ready hosts take new VMs`);
    }
  });

  it('cpu: counts overcommit (16 cores × 4 = 64 vCPUs) and says what was needed and free', () => {
    const busy = host('h', { allocated: { cpus: 60, memoryBytes: 0, diskBytes: 0 } });
    expect(run(cpuFilter, vm('a', { cpus: 4 }), busy)).toBeUndefined();
    expect(run(cpuFilter, vm('a', { cpus: 5 }), busy)).toBe('needs 5 CPUs, 4 free of 64 (16 × overcommit 4)');
    const strict = resolvePolicy({ overcommit: { cpu: 1 } });
    expect(run(cpuFilter, vm('a', { cpus: 4 }), busy, strict)).toBe('needs 4 CPUs, 0 free of 16 (16 × overcommit 1)');
  });

  it('memory: no overcommit by default; the exact fit passes, one byte more fails', () => {
    const h = host('h', { allocated: { cpus: 0, memoryBytes: 60 * GiB, diskBytes: 0 } });
    expect(run(memoryFilter, vm('a', { memoryBytes: 4 * GiB }), h)).toBeUndefined();
    expect(run(memoryFilter, vm('a', { memoryBytes: 4 * GiB + 1 }), h)).toBe('needs 4 GiB memory, 4 GiB free of 64 GiB (64 GiB × overcommit 1)');
    const lax = resolvePolicy({ overcommit: { memory: 1.5 } });
    expect(run(memoryFilter, vm('a', { memoryBytes: 30 * GiB }), h, lax)).toBeUndefined();
  });

  it('disk: allocated plus request against capacity × ratio', () => {
    const h = host('h', { allocated: { cpus: 0, memoryBytes: 0, diskBytes: 990 * GiB } });
    expect(run(diskFilter, vm('a', { diskBytes: 10 * GiB }), h)).toBeUndefined();
    expect(run(diskFilter, vm('a', { diskBytes: 20 * GiB }), h)).toBe('needs 20 GiB disk, 10 GiB free of 1000 GiB (1000 GiB × overcommit 1)');
  });

  it('selector: labels must meet the selector; the unmet requirement is named', () => {
    const h = host('h', { labels: { zone: 'a', disk: 'ssd' } });
    expect(run(selectorFilter, vm('a', { selector: 'zone in (a,b),disk=ssd' }), h)).toBeUndefined();
    expect(run(selectorFilter, vm('a', { selector: 'zone=a,disk!=ssd' }), h)).toBe('labels do not meet disk!=ssd');
    expect(run(selectorFilter, vm('a'), host('bare'))).toBeUndefined();
  });

  it('storage: the host must reach the VM\'s storage pool', () => {
    const h = host('h', { storage: ['local', 'nfs1'] });
    expect(run(storageFilter, vm('a', { storagePool: 'nfs1' }), h)).toBeUndefined();
    expect(run(storageFilter, vm('a'), host('x'))).toBeUndefined();
    expect(run(storageFilter, vm('a', { storagePool: 'ceph' }), h)).toBe('does not reach storage pool ceph (reaches local, nfs1)');
    expect(run(storageFilter, vm('a', { storagePool: 'ceph' }), host('x'))).toBe('does not reach storage pool ceph');
  });

  it('pool: restrictToPools keeps the VM inside its pools; preferring alone restricts nothing', () => {
    const h = host('h', { pool: 'gold' });
    expect(run(poolFilter, vm('a', { preferredPools: ['silver'] }), h)).toBeUndefined();
    expect(run(poolFilter, vm('a', { preferredPools: ['gold'], restrictToPools: true }), h)).toBeUndefined();
    expect(run(poolFilter, vm('a', { preferredPools: ['silver'], restrictToPools: true }), h)).toBe('host pool "gold" is not among the VM\'s pools (silver)');
  });

  it('affinity (hard): with a VM, with a group; the first VM of its own group goes anywhere', () => {
    const withDb = host('h1', { vms: [{ name: 'db', groups: ['data'] }] });
    const empty = host('h2');
    const toDb = vm('app', { rules: [{ kind: 'affinity', target: { vm: 'db' } }] });
    expect(run(affinityFilter, toDb, withDb)).toBeUndefined();
    expect(run(affinityFilter, toDb, empty, DEFAULT_POLICY, [withDb])).toBe('must run with VM db, which runs on h1');
    expect(run(affinityFilter, toDb, empty)).toBe('must run with VM db, which runs nowhere');
    const toData = vm('app', { rules: [{ kind: 'affinity', target: { group: 'data' } }] });
    expect(run(affinityFilter, toData, withDb)).toBeUndefined();
    expect(run(affinityFilter, toData, empty, DEFAULT_POLICY, [withDb])).toBe('must run with group data, which has no VM here');
    expect(run(affinityFilter, toData, empty)).toBe('must run with group data, which has no VM anywhere');
    const first = vm('d1', { groups: ['data'], rules: [{ kind: 'affinity', target: { group: 'data' } }] });
    expect(run(affinityFilter, first, empty)).toBeUndefined();
    expect(run(affinityFilter, first, empty, DEFAULT_POLICY, [withDb])).toBe('must run with group data, which has no VM here');
  });

  it('anti-affinity (hard): with a VM and with a group; the VM itself never counts', () => {
    const h = host('h', { vms: [{ name: 'web1', groups: ['web'] }, { name: 'web2', groups: ['web'] }] });
    const awayFromWeb = vm('web3', { groups: ['web'], rules: [{ kind: 'anti-affinity', target: { group: 'web' } }] });
    expect(run(antiAffinityFilter, awayFromWeb, h)).toBe('must not run with group web (2 of its VMs run here)');
    expect(run(antiAffinityFilter, awayFromWeb, host('other'))).toBeUndefined();
    const awayFromWeb1 = vm('x', { rules: [{ kind: 'anti-affinity', target: { vm: 'web1' } }] });
    expect(run(antiAffinityFilter, awayFromWeb1, h)).toBe('must not run with VM web1, which runs here');
    const soft = vm('x', { rules: [{ kind: 'anti-affinity', target: { vm: 'web1' }, hard: false }] });
    expect(run(antiAffinityFilter, soft, h)).toBeUndefined();
    // A rule naming the VM itself is a mistake in the request, not a rejection.
    const self = host('s', { vms: [{ name: 'web3', groups: ['web'] }] });
    const selfVm = vm('web3', { rules: [{ kind: 'anti-affinity', target: { vm: 'web3' } }] });
    expect(() => run(antiAffinityFilter, selfVm, self)).toThrow(/cannot name the VM itself/);
  });
});
