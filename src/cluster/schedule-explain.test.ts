import { describe, expect, it } from 'vitest';
import { validateSpec, type HostView } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';
import { explainPlacement, explainTarget } from './schedule-explain.js';
import { DEFAULT_POLICY, resolvePolicy, schedule } from './scheduler/index.js';

const GiB = 1024 ** 3;

function hostView(name: string, over: Partial<HostView> = {}): HostView {
  return {
    name, state: 'ready', capacity: { cpus: 8, memoryBytes: 8 * GiB, diskBytes: 100 * GiB }, allocated: { cpus: 0, memoryBytes: 0, diskBytes: 0 },
    vms: 0, pool: '', version: 't', since: '2026-12-05T00:00:00Z', leaseAgeSeconds: 1, self: false, ...over,
  };
}

function record(name: string, host: string, spec: Record<string, unknown>, state: VmRecord['state'] = 'running'): VmRecord {
  return {
    id: `id-${name}`, name, spec: validateSpec({ name, ...spec }), state, stateReason: '', host, runtime: null,
    createdAt: '2026-12-05T00:00:00Z', updatedAt: '2026-12-05T00:00:00Z', generation: 1,
  };
}

const spec2g = (name: string, more: Record<string, unknown> = {}) => validateSpec({ name, memory: '2Gi', cpu: { count: 2 }, disks: [{ name: 'root', size: '10Gi' }], ...more });

describe('schedule explain', () => {
  const hosts = [
    hostView('a-full'),
    hostView('b-down', { state: 'down' }),
    hostView('c-cordoned', { state: 'cordoned' }),
    hostView('d-free', { capacity: { cpus: 16, memoryBytes: 32 * GiB, diskBytes: 500 * GiB } }),
    hostView('e-used'),
  ];
  const vms = [
    record('big', 'a-full', { memory: '7Gi', disks: [{ name: 'root', size: '1Gi' }] }),
    record('small', 'e-used', { memory: '1Gi', disks: [{ name: 'root', size: '1Gi' }] }),
    record('off', 'e-used', { memory: '6Gi', disks: [{ name: 'root', size: '1Gi' }] }, 'stopped'), // stopped: claims nothing
  ];

  it('lists every host: the refusing filter with the host\'s numbers, the scores of those that pass, the chosen host first', () => {
    const x = explainPlacement({ name: 'web', spec: spec2g('web'), hosts, vms, policy: DEFAULT_POLICY });
    expect(x.request).toEqual({ cpus: 2, memoryBytes: 2 * GiB, diskBytes: 10 * GiB, pool: null, restricted: false });
    expect(x.policy).toEqual({ mode: 'pack', overcommit: { cpu: 4, memory: 1, disk: 1 } });
    const by = new Map(x.hosts.map((h) => [h.host, h]));
    expect(by.get('a-full')).toMatchObject({
      passed: false, score: null, chosen: false, allocated: { memoryBytes: 7 * GiB },
      refusedBy: { filter: 'memory', reason: 'needs 2 GiB memory, 1 GiB free of 8 GiB (8 GiB × overcommit 1)' },
    });
    expect(by.get('b-down')!.refusedBy).toEqual({ filter: 'state', reason: 'host is down; only ready hosts take new VMs' });
    expect(by.get('c-cordoned')!.refusedBy!.filter).toBe('state');
    // Pack (best fit): the host already in use beats the larger empty one.
    expect(x.chosen).toBe('e-used');
    expect(x.hosts[0]).toMatchObject({ host: 'e-used', passed: true, chosen: true, refusedBy: null, allocated: { memoryBytes: 1 * GiB } });
    expect(x.hosts[1]).toMatchObject({ host: 'd-free', passed: true, chosen: false });
    expect(x.hosts[0]!.score!.capacity).toBeGreaterThan(x.hosts[1]!.score!.capacity);
    expect(x.hosts[0]!.score!.total).toBe(x.hosts[0]!.score!.capacity + x.hosts[0]!.score!.affinity);
    // Every filter ran on a refused host too (explain shows them all), and the tier filter last on those that passed.
    expect(by.get('a-full')!.verdicts.map((v) => v.filter)).toEqual(['state', 'cpu', 'memory', 'disk', 'selector', 'storage', 'pool', 'numa', 'hugepages', 'devices', 'affinity', 'anti-affinity']);
    expect(x.hosts[0]!.verdicts.at(-1)).toEqual({ filter: 'tier', pass: true });
    expect(x.hosts.slice(2).map((h) => h.host)).toEqual(['a-full', 'b-down', 'c-cordoned']);
  });

  it('chooses what schedule() places, in either scoring mode', () => {
    for (const mode of ['pack', 'spread'] as const) {
      const policy = resolvePolicy({ mode });
      const x = explainPlacement({ name: 'web', spec: spec2g('web'), hosts, vms, policy });
      const cands = hosts.filter((h) => h.state !== 'down').map((h) => h.name);
      expect(cands).toContain(x.chosen);
      const placed = schedule({ vm: 'web', cpus: 2, memoryBytes: 2 * GiB, diskBytes: 10 * GiB }, [
        { name: 'a-full', state: 'ready', capacity: hosts[0]!.capacity, allocated: { cpus: 1, memoryBytes: 7 * GiB, diskBytes: GiB } },
        { name: 'd-free', state: 'ready', capacity: hosts[3]!.capacity, allocated: { cpus: 0, memoryBytes: 0, diskBytes: 0 } },
        { name: 'e-used', state: 'ready', capacity: hosts[4]!.capacity, allocated: { cpus: 1, memoryBytes: GiB, diskBytes: GiB } },
      ], policy);
      expect(placed.ok && placed.host).toBe(x.chosen);
    }
    expect(explainPlacement({ name: 'web', spec: spec2g('web'), hosts, vms, policy: resolvePolicy({ mode: 'spread' }) }).chosen).toBe('d-free');
  });

  it('an existing VM does not count against its own host; its HA group restricts the hosts', () => {
    const x = explainTarget({ vm: 'big' }, hosts, vms, DEFAULT_POLICY);
    expect(x.vm).toBe('big');
    expect(x.hosts.find((h) => h.host === 'a-full')).toMatchObject({ passed: true, allocated: { memoryBytes: 0 } });
    const pooled = hosts.map((h) => (h.name === 'd-free' ? { ...h, pool: 'gold' } : h));
    const y = explainTarget({ spec: spec2g('db', { ha: { group: 'gold', restricted: true } }) }, pooled, vms, DEFAULT_POLICY);
    expect(y.request).toMatchObject({ pool: 'gold', restricted: true });
    expect(y.chosen).toBe('d-free');
    expect(y.hosts.find((h) => h.host === 'e-used')!.refusedBy).toEqual({ filter: 'pool', reason: 'host pool "" is not among the VM\'s pools (gold)' });
  });

  it('no host fits: chosen is null and every host says why; an unknown VM is VM_NOT_FOUND', () => {
    const x = explainPlacement({ name: 'huge', spec: validateSpec({ name: 'huge', memory: '64Gi', disks: [{ name: 'root', size: '1Gi' }] }), hosts, vms, policy: DEFAULT_POLICY });
    expect(x.chosen).toBeNull();
    expect(x.hosts.every((h) => !h.passed && h.refusedBy !== null && h.score === null)).toBe(true);
    expect(x.hosts.find((h) => h.host === 'd-free')!.refusedBy).toEqual({ filter: 'memory', reason: 'needs 64 GiB memory, 32 GiB free of 32 GiB (32 GiB × overcommit 1)' });
    expect(() => explainTarget({ vm: 'ghost' }, hosts, vms, DEFAULT_POLICY)).toThrow(expect.objectContaining({ code: 'VM_NOT_FOUND' }));
  });
});

describe('the anti-affinity label', () => {
  it('anti-affinity: GROUP keeps two members of GROUP off one host (explain, create placement, rebalance share it)', () => {
    const hosts = [hostView('h1'), hostView('h2')];
    const vms = [record('w1', 'h1', { memory: '1Gi', disks: [{ name: 'root', size: '1Gi' }], labels: { 'anti-affinity': 'web' } })];
    const x = explainPlacement({ name: 'w2', spec: spec2g('w2', { labels: { 'anti-affinity': 'web' } }), hosts, vms, policy: DEFAULT_POLICY });
    expect(x.chosen).toBe('h2');
    expect(x.hosts.find((h) => h.host === 'h1')!.refusedBy).toEqual({ filter: 'anti-affinity', reason: expect.stringMatching(/must not run with group web/) });
    // Without the label, pack puts it beside w1.
    expect(explainPlacement({ name: 'w2', spec: spec2g('w2'), hosts, vms, policy: DEFAULT_POLICY }).chosen).toBe('h1');
  });
});
