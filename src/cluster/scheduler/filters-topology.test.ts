import { describe, expect, it } from 'vitest';
import { compileRequest } from './compiled-request.js';
import { hugepagesFilter, numaFilter } from './filters-topology.js';
import { LiveHost, whereaboutsOf } from './live-host.js';
import { placeAll } from './place-all.js';
import { DEFAULT_POLICY } from './policy.js';
import { GiB, host, vm } from './test-hosts.js';
import type { FilterFn } from './filter-fn.js';
import type { HostCandidate, HostTopology, PlacementRequest } from './types.js';
import { topologyRequestOf } from './topology-request.js';
import { validateSpec } from '../../spec/index.js';

/** The 2-node server of test/fixtures/host-sysfs/numa-2node as its agent publishes it: 16 CPUs and ~63 GiB a node, 2M pages 512 / 100 free. */
const TWO_NODES: HostTopology = {
  nodes: [
    { id: 0, cpus: 16, memoryBytes: 62.8 * GiB, hugepages: { '2M': 512, '1G': 4 } },
    { id: 1, cpus: 16, memoryBytes: 63 * GiB, hugepages: { '2M': 100, '1G': 0 } },
  ],
  gpus: [],
};
const server = (name: string, over: Partial<HostCandidate> = {}) => host(name, { capacity: { cpus: 32, memoryBytes: 128 * GiB, diskBytes: 1000 * GiB }, topology: TWO_NODES, ...over });
const run = (fn: FilterFn, req: PlacementRequest, h: HostCandidate) => {
  const live = new LiveHost(h);
  return fn(compileRequest(req, DEFAULT_POLICY), live, DEFAULT_POLICY, whereaboutsOf([live]));
};

describe('numa filter', () => {
  it('passes a VM that fits in one node, refuses one larger than every node with each node\'s numbers', () => {
    expect(run(numaFilter, vm('a', { cpus: 16, memoryBytes: 60 * GiB, topology: { singleNode: true } }), server('h'))).toBeUndefined();
    expect(run(numaFilter, vm('a', { cpus: 8, memoryBytes: 70 * GiB, topology: { singleNode: true } }), server('h')))
      .toBe('no host node fits 8 vCPUs and 70 GiB in one node (node 0: 16 CPUs, 62.8 GiB free of 62.8 GiB; node 1: 16 CPUs, 63 GiB free of 63 GiB)');
    expect(run(numaFilter, vm('a', { cpus: 17, memoryBytes: 1 * GiB, topology: { singleNode: true } }), server('h'))).toMatch(/^no host node fits 17 vCPUs/);
  });

  it('a VM that does not ask passes anywhere; one that asks is refused by a host without published nodes', () => {
    expect(run(numaFilter, vm('a', { cpus: 8, memoryBytes: 100 * GiB }), server('h'))).toBeUndefined();
    expect(run(numaFilter, vm('a', { topology: { singleNode: true } }), host('old'))).toBe('asks to fit in one host NUMA node; this host published no NUMA nodes');
  });

  it('with hugepages the node must hold the pages too', () => {
    // 300 pages of 2M: only node 0 has them
    expect(run(numaFilter, vm('a', { cpus: 2, memoryBytes: 600 * 1024 ** 2, topology: { singleNode: true, hugepages: { size: '2M', pages: 300 } } }), server('h'))).toBeUndefined();
    expect(run(numaFilter, vm('a', { cpus: 2, memoryBytes: 600 * 1024 ** 2, topology: { singleNode: true, hugepages: { size: '2M', pages: 300, node: 1 } } }), server('h')))
      .toMatch(/^no host node fits 2 vCPUs and 0.59 GiB and 300 2M hugepages in one node \(node 0: .*, 512 free 2M pages; node 1: .*, 100 free 2M pages\)$/);
  });
});

describe('hugepages filter', () => {
  it('counts free pages host-wide or on the bound node, and names them', () => {
    expect(run(hugepagesFilter, vm('a', { topology: { hugepages: { size: '2M', pages: 612 } } }), server('h'))).toBeUndefined();
    expect(run(hugepagesFilter, vm('a', { topology: { hugepages: { size: '2M', pages: 613 } } }), server('h'))).toBe('needs 613 free 2M hugepages, this host has 612 free (node 0: 512, node 1: 100)');
    expect(run(hugepagesFilter, vm('a', { topology: { hugepages: { size: '2M', pages: 101, node: 1 } } }), server('h'))).toBe('needs 101 free 2M hugepages, host node 1 has 100 free');
    expect(run(hugepagesFilter, vm('a', { topology: { hugepages: { size: '1G', pages: 1, node: 2 } } }), server('h'))).toBe('needs hugepages on host node 2; this host has nodes 0, 1');
    expect(run(hugepagesFilter, vm('a', { topology: { hugepages: { size: '1G', pages: 1 } } }), host('old'))).toBe('needs 1 free 1G hugepages; this host published no hugepage counts');
    expect(run(hugepagesFilter, vm('a'), host('old'))).toBeUndefined();
  });
});

describe('placement uses up nodes and pages', () => {
  it('single-node VMs fill a node before the next; pages are not given twice; indexed and naive runs agree', () => {
    const reqs = [1, 2, 3, 4, 5].map((i) => vm(`v${i}`, { cpus: 4, memoryBytes: 30 * GiB, diskBytes: 10 * GiB, topology: { singleNode: true } }));
    for (const naive of [false, true]) {
      const r = placeAll(reqs, [server('a'), server('b')], DEFAULT_POLICY, { naive });
      // two 30 GiB VMs per ~63 GiB node, four per host: the fifth goes to b
      expect(r.placements.map((p) => p.host)).toEqual(['a', 'a', 'a', 'a', 'b']);
    }
    const pages = [1, 2, 3].map((i) => vm(`p${i}`, { cpus: 1, memoryBytes: 512 * 1024 ** 2, diskBytes: 1, topology: { hugepages: { size: '2M', pages: 256 } } }));
    const r = placeAll(pages, [server('a')], DEFAULT_POLICY);
    // 612 free: two VMs of 256 pages, the third is refused by hugepages
    expect(r.placements).toEqual([{ vm: 'p1', host: 'a' }, { vm: 'p2', host: 'a' }, { vm: 'p3', host: null, rejectedBy: { hugepages: 1 } }]);
  });
});

describe('topologyRequestOf (a spec\'s asks)', () => {
  const spec = (extra: Record<string, unknown>) => validateSpec({ name: 'v', boot: { kernel: '/k' }, ...extra });
  it('single node, hugepages (bound node from hostNode or the one node every guest node binds), GPU and mdev types', () => {
    expect(topologyRequestOf(spec({ memory: '4Gi' }))).toBeUndefined();
    expect(topologyRequestOf(spec({ memory: { size: '4Gi', singleHostNode: true, hugepages: { size: '1G' } } }))).toEqual({ singleNode: true, hugepages: { size: '1G', pages: 4 } });
    expect(topologyRequestOf(spec({ memory: { size: '1Gi', hugepages: { size: '2M', hostNode: 1 } } }))).toEqual({ hugepages: { size: '2M', pages: 512, node: 1 } });
    expect(topologyRequestOf(spec({ cpu: { count: 2 }, memory: { size: '1Gi', hugepages: { size: '2M' }, numa: [{ cpus: '0', memory: '512Mi', hostNodes: '1' }, { cpus: '1', memory: '512Mi', hostNodes: '1' }] } })))
      .toEqual({ hugepages: { size: '2M', pages: 512, node: 1 } });
    expect(topologyRequestOf(spec({ devices: { gpu: { kind: 'passthrough', pci: '10de:1eb8' }, hostdev: [{ pci: '0000:3b:00.0', mdevType: 'nvidia-232' }, { pci: '0000:5e:00.1' }] } })))
      .toEqual({ gpus: ['10de:1eb8'], mdevTypes: ['nvidia-232'] });
  });
});

describe('the capacity index with topology', () => {
  it('prunes by node room and free pages yet picks what the full scan picks (random fleet, 600 VMs)', () => {
    let s = 7;
    const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const hosts = Array.from({ length: 60 }, (_, i) => {
      const big = r() < 0.3;
      const cpus = big ? 64 : 16;
      const mem = (big ? 256 : 64) * GiB;
      return host(`h${String(i).padStart(2, '0')}`, {
        capacity: { cpus, memoryBytes: mem, diskBytes: 2000 * GiB },
        ...(r() < 0.9 ? { topology: { nodes: [0, 1].map((id) => ({ id, cpus: cpus / 2, memoryBytes: mem / 2, hugepages: { '2M': Math.floor(r() * 4096) } })), gpus: [] } } : {}),
      });
    });
    const reqs = Array.from({ length: 600 }, (_, i) => {
      const k = r();
      const cpus = [1, 2, 4, 8, 16][Math.floor(r() * 5)]!;
      const memoryBytes = cpus * 4 * GiB;
      return vm(`v${i}`, { cpus, memoryBytes, diskBytes: 10 * GiB, ...(k < 0.3 ? { topology: { singleNode: true } } : k < 0.45 ? { topology: { hugepages: { size: '2M' as const, pages: memoryBytes / (2 * 1024 ** 2) } } } : {}) });
    });
    const a = placeAll(reqs, hosts, DEFAULT_POLICY);
    const b = placeAll(reqs, hosts, DEFAULT_POLICY, { naive: true });
    expect(a.placements).toEqual(b.placements);
    expect(a.placements.filter((p) => p.host === null).length).toBeGreaterThan(0); // the fleet runs out: refusals are compared too
  });
});
