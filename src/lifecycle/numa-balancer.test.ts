import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { guestRamByNode, localityOf } from '../drivers/qemu/numa-maps.js';
import { describeNumaDecision, NumaBalancer, type NumaObservation } from './numa-balancer.js';

const MIB = 1024 * 1024;
const fx = (name: string): string => readFileSync(new URL(`../../test/fixtures/numa-maps/${name}`, import.meta.url), 'utf8');
/** The two-node fixture (README there: hand-edited from a capture): 40 MiB on node 0, 248 MiB on node 1. */
const twoNode = guestRamByNode(fx('qemu-2node.maps'), fx('qemu-2node.numa_maps'), 64 * MIB);
const boundTo0 = localityOf(twoNode, [0]); // 86% remote
const unbound = localityOf(twoNode, []); // home = node 1, 14% remote
const local = localityOf(new Map([[0, 288 * MIB]]), [0]);
const vm = (numa: NumaObservation['numa'], name = 'db', state = 'running'): NumaObservation => ({ name, state, numa });

describe('NUMA balancer decisions (fixtures: this host has one node)', () => {
  it('migrate: acts after N samples in a row more than half remote, moving remote nodes to the bound ones, then counts again', () => {
    const b = new NumaBalancer({ mode: 'migrate', samples: 3 });
    expect(b.observe([vm(boundTo0)])).toEqual([]);
    expect(b.observe([vm(boundTo0)])).toEqual([]);
    const [d] = b.observe([vm(boundTo0)]);
    expect(d).toMatchObject({ vm: 'db', action: 'migrate', from: [1], to: [0], bound: true, remoteBytes: 248 * MIB });
    expect(d!.remoteRatio).toBeCloseTo(248 / 288, 6);
    expect(describeNumaDecision(d!, {})).toBe('VM db: 86% of its resident guest RAM (248 MiB) is on host node(s) 1, not on the host node(s) its spec binds it to, 0: moved its pages from node(s) 1 to 0 (migratepages)');
    // still remote after the move: another full period before the next one
    expect(b.observe([vm(boundTo0)])).toEqual([]);
    expect(b.observe([vm(boundTo0)])).toEqual([]);
    expect(b.observe([vm(boundTo0)])).toHaveLength(1);
  });

  it('a local sample in between starts the count again; so do a stop and a missing reading', () => {
    const b = new NumaBalancer({ mode: 'migrate', samples: 2 });
    expect(b.observe([vm(boundTo0)])).toEqual([]);
    expect(b.observe([vm(local)])).toEqual([]);
    expect(b.observe([vm(boundTo0)])).toEqual([]);
    expect(b.observe([vm(boundTo0, 'db', 'paused')])).toEqual([]);
    expect(b.observe([vm(boundTo0)])).toEqual([]);
    expect(b.observe([vm(null)])).toEqual([]);
    expect(b.observe([vm(boundTo0)])).toEqual([]);
    expect(b.observe([vm(boundTo0)])).toHaveLength(1);
  });

  it('exactly half, or an unbound VM whose largest node holds most, is not "more than half remote"', () => {
    const b = new NumaBalancer({ mode: 'migrate', samples: 1 });
    expect(b.observe([vm(localityOf(new Map([[0, 64 * MIB], [1, 64 * MIB]]), [0]))])).toEqual([]);
    expect(unbound.remoteRatio).toBeLessThan(0.5);
    expect(b.observe([vm(unbound)])).toEqual([]);
    // unbound on three nodes with none holding half: pages go to the node holding the most
    const spread = localityOf(new Map([[0, 40 * MIB], [1, 30 * MIB], [2, 30 * MIB]]), []);
    expect(b.observe([vm(spread)])).toEqual([expect.objectContaining({ from: [1, 2], to: [0], bound: false })]);
  });

  it('report: says it once per episode, again only after the VM was local in between; off: never', () => {
    const r = new NumaBalancer({ mode: 'report', samples: 2 });
    expect(r.observe([vm(boundTo0), vm(local, 'web')])).toEqual([]);
    const [d] = r.observe([vm(boundTo0), vm(local, 'web')]);
    expect(d).toMatchObject({ vm: 'db', action: 'report' });
    expect(describeNumaDecision(d!)).toMatch(/: reported only \(numaBalancing: report\)$/);
    for (let i = 0; i < 5; i++) expect(r.observe([vm(boundTo0)])).toEqual([]);
    r.observe([vm(local)]);
    r.observe([vm(boundTo0)]);
    expect(r.observe([vm(boundTo0)])).toHaveLength(1);
    const off = new NumaBalancer({ mode: 'off', samples: 1 });
    expect(off.observe([vm(boundTo0)])).toEqual([]);
  });

  it('a failed move is said with its reason', () => {
    const d = new NumaBalancer({ mode: 'migrate', samples: 1 }).observe([vm(boundTo0)])[0]!;
    expect(describeNumaDecision(d, { error: 'migratepages is not installed or not on PATH' })).toMatch(/moving its pages to node\(s\) 0 failed: migratepages is not installed/);
  });
});
