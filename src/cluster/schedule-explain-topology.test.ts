import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from './scheduler/index.js';
import { explainPlacement } from './schedule-explain.js';
import { validateSpec, type HostView } from '../spec/index.js';

const GiB = 1024 ** 3;
const hostView = (name: string, topology?: HostView['topology']): HostView => ({
  name, state: 'ready', capacity: { cpus: 32, memoryBytes: 128 * GiB, diskBytes: 1000 * GiB }, allocated: { cpus: 0, memoryBytes: 0, diskBytes: 0 },
  vms: 0, pool: '', version: 't', since: '2026-12-05T00:00:00.000Z', leaseAgeSeconds: 1, self: false, ...(topology ? { topology } : {}),
});

describe('schedule explain with topology (published host facts)', () => {
  it('names the numa, hugepages and devices filters and the host\'s numbers; a host without facts is refused by what the VM asks', () => {
    const big = hostView('big', { nodes: [{ id: 0, cpus: 16, memoryBytes: 64 * GiB, hugepages: { '2M': 2048 } }, { id: 1, cpus: 16, memoryBytes: 64 * GiB, hugepages: { '2M': 0 } }], gpus: [{ address: '0000:87:00.0', model: '10de:1db6', free: true }] });
    const small = hostView('small', { nodes: [{ id: 0, cpus: 8, memoryBytes: 16 * GiB }, { id: 1, cpus: 8, memoryBytes: 16 * GiB }], gpus: [] });
    const spec = validateSpec({ name: 'db', boot: { kernel: '/k' }, cpu: { count: 8 }, memory: { size: '24Gi', singleHostNode: true } });
    const e = explainPlacement({ name: 'db', spec, hosts: [big, small, hostView('old')], vms: [], policy: DEFAULT_POLICY });
    expect(e.chosen).toBe('big');
    const by = new Map(e.hosts.map((h) => [h.host, h.refusedBy]));
    expect(by.get('small')).toEqual({ filter: 'numa', reason: 'no host node fits 8 vCPUs and 24 GiB in one node (node 0: 8 CPUs, 16 GiB free of 16 GiB; node 1: 8 CPUs, 16 GiB free of 16 GiB)' });
    expect(by.get('old')).toEqual({ filter: 'numa', reason: 'asks to fit in one host NUMA node; this host published no NUMA nodes' });
    const gpu = validateSpec({ name: 'ml', boot: { kernel: '/k' }, memory: { size: '2Gi', hugepages: { size: '2M' } }, devices: { gpu: { kind: 'passthrough', pci: '10de:1db6' } } });
    const g = explainPlacement({ name: 'ml', spec: gpu, hosts: [big, small], vms: [], policy: DEFAULT_POLICY });
    expect(g.chosen).toBe('big');
    expect(g.hosts.find((h) => h.host === 'small')!.refusedBy).toEqual({ filter: 'hugepages', reason: 'needs 1024 free 2M hugepages, this host has 0 free (node 0: 0, node 1: 0)' });
  });
});
