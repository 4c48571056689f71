import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { guestRamByNode, isGuestRam, localityOf, numaLineBytes, parseMaps } from './numa-maps.js';
import { boundHostNodes, minRamBlock } from './numa-locality.js';

const MIB = 1024 * 1024;
const fx = (name: string): string => readFileSync(new URL(`../../../test/fixtures/numa-maps/${name}`, import.meta.url), 'utf8');

describe('numa_maps: guest RAM per host node (fixtures in test/fixtures/numa-maps, README says which are captures)', () => {
  it('picks the guest-RAM mappings of a real QEMU: its three 128 MiB blocks, not the TCG code buffer, stacks or heap', () => {
    const ram = parseMaps(fx('qemu-1node.maps')).filter((r) => isGuestRam(r, 64 * MIB));
    expect(ram.map((r) => (r.end - r.start) / MIB)).toEqual([128, 128, 128]);
    // on this one-node machine, everything resident is on node 0: 1024 + 512 pages of 4 KiB
    const byNode = guestRamByNode(fx('qemu-1node.maps'), fx('qemu-1node.numa_maps'), 64 * MIB);
    expect([...byNode]).toEqual([[0, 1536 * 4096]]);
    expect(localityOf(byNode, [])).toEqual({ nodes: [{ node: 0, bytes: 1536 * 4096 }], home: [0], bound: false, remoteBytes: 0, remoteRatio: 0 });
  });

  it('two nodes: sums the guest-RAM lines only; remote is against the bound nodes, or the node holding most', () => {
    const byNode = guestRamByNode(fx('qemu-2node.maps'), fx('qemu-2node.numa_maps'), 64 * MIB);
    expect(byNode.get(0)).toBe(40 * MIB); // the heap's node-0 pages do not count
    expect(byNode.get(1)).toBe(248 * MIB);
    const unbound = localityOf(byNode, []);
    expect(unbound.home).toEqual([1]);
    expect(unbound.remoteBytes).toBe(40 * MIB);
    expect(unbound.remoteRatio).toBeCloseTo(40 / 288, 6);
    const bound0 = localityOf(byNode, [0]);
    expect(bound0).toMatchObject({ home: [0], bound: true, remoteBytes: 248 * MIB });
    expect(bound0.remoteRatio).toBeCloseTo(248 / 288, 6);
    expect(localityOf(byNode, [0, 1]).remoteRatio).toBe(0);
  });

  it('hugetlb memfd backends count in their page size', () => {
    const byNode = guestRamByNode(fx('qemu-hugetlb-2node.maps'), fx('qemu-hugetlb-2node.numa_maps'), 64 * MIB);
    expect([...byNode].sort()).toEqual([[0, 1024 * MIB], [1, 1024 * MIB]]);
    expect(localityOf(byNode, [0]).remoteRatio).toBe(0.5);
    expect(numaLineBytes('7f3a40000000 bind:0 huge dirty=2 N0=1 N1=1 kernelpagesize_kB=1048576')).toEqual(new Map([[0, 1024 * MIB], [1, 1024 * MIB]]));
  });

  it('nothing resident: ratio 0, no home', () => {
    expect(localityOf(new Map(), [])).toEqual({ nodes: [], home: [], bound: false, remoteBytes: 0, remoteRatio: 0 });
  });

  it('bound nodes and the smallest block come from the spec', () => {
    expect(boundHostNodes({ memoryLayout: { numa: [{ cpus: '0', memory: 128 * MIB, hostNodes: '1' }, { cpus: '1', memory: 32 * MIB, hostNodes: '2-3' }] } } as never)).toEqual([1, 2, 3]);
    expect(boundHostNodes({ memoryLayout: { hugepages: { size: '2M', hostNode: 1 } } } as never)).toEqual([1]);
    expect(boundHostNodes({})).toEqual([]);
    expect(minRamBlock({ memory: 256 * MIB })).toBe(64 * MIB);
    expect(minRamBlock({ memory: 256 * MIB, memoryLayout: { numa: [{ cpus: '0', memory: 224 * MIB }, { cpus: '1', memory: 32 * MIB }] } } as never)).toBe(32 * MIB);
  });
});
