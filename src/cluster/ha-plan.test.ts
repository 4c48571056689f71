import { describe, expect, it } from 'vitest';
import { planFailover, type HaPlanInput, type HaVm } from './ha-plan.js';
import { DEFAULT_POLICY } from './scheduler/index.js';
import { GiB, host } from './scheduler/test-hosts.js';

const vm = (name: string, over: Partial<HaVm> = {}): HaVm => ({
  name, host: 'a', state: 'running', generation: 7, cpus: 2, memoryBytes: 4 * GiB, diskBytes: 10 * GiB,
  priority: 0, restricted: false, maxRestarts: 3, recentRestarts: 0, ...over,
});
const input = (over: Partial<HaPlanInput> = {}): HaPlanInput => ({
  vms: [], hosts: [host('b'), host('c')], lostSince: new Map([['a', 1_000]]), now: 10_000, marginMs: 3_000,
  pending: new Set(), policy: DEFAULT_POLICY, ...over,
});

describe('planFailover', () => {
  it('restarts a lost host\'s running HA VMs on live hosts, with the generation to compare', () => {
    const p = planFailover(input({ vms: [vm('web'), vm('db', { state: 'paused' })] }));
    expect(p.restarts.map((r) => [r.vm, r.from, r.generation])).toEqual([['db', 'a', 7], ['web', 'a', 7]]);
    expect(p.restarts.every((r) => r.to === 'b' || r.to === 'c')).toBe(true);
  });

  it('leaves VMs of live hosts, stopped or suspended VMs, and those already pending', () => {
    const p = planFailover(input({
      vms: [vm('live', { host: 'b' }), vm('off', { state: 'stopped' }), vm('saved', { state: 'suspended' }), vm('going', { state: 'stopping' }), vm('busy')],
      pending: new Set(['busy']),
    }));
    expect(p).toEqual({ restarts: [], waiting: [], stuck: [] });
  });

  it('waits out the fence margin after the host was first seen lost', () => {
    const p = planFailover(input({ vms: [vm('web')], lostSince: new Map([['a', 9_000]]) }));
    expect(p.restarts).toEqual([]);
    expect(p.waiting).toEqual([{ vm: 'web', from: 'a', restartAt: 12_000 }]);
    // a host the manager has only just noticed: the wait starts now
    expect(planFailover(input({ vms: [vm('web')], lostSince: new Map() })).waiting[0]!.restartAt).toBe(13_000);
  });

  it('places the highest priority first when room is short, and says why the rest stay down', () => {
    const small = [host('b', { capacity: { cpus: 16, memoryBytes: 6 * GiB, diskBytes: 1000 * GiB } })];
    const p = planFailover(input({ hosts: small, vms: [vm('low', { priority: 1 }), vm('high', { priority: 9 })] }));
    expect(p.restarts.map((r) => r.vm)).toEqual(['high']);
    expect(p.stuck).toEqual([{ vm: 'low', from: 'a', why: expect.stringMatching(/no live host fits it \(hosts rejected by memory 1\)/) }]);
  });

  it('gives up on a VM past its restart limit', () => {
    const p = planFailover(input({ vms: [vm('flappy', { recentRestarts: 3 })] }));
    expect(p.stuck[0]).toMatchObject({ vm: 'flappy', why: expect.stringMatching(/restarted 3 times within the hour/) });
  });

  it('keeps a restricted VM inside its group, and prefers the group otherwise', () => {
    const hosts = [host('b', { pool: 'rack1' }), host('c', { pool: 'rack2' })];
    expect(planFailover(input({ hosts, vms: [vm('web', { group: 'rack2' })] })).restarts[0]!.to).toBe('c');
    const none = planFailover(input({ hosts: [host('b', { pool: 'rack1' })], vms: [vm('web', { group: 'rack2', restricted: true })] }));
    expect(none.restarts).toEqual([]);
    expect(none.stuck[0]!.why).toMatch(/no live host fits it/);
  });
});

describe('HA restarts keep the anti-affinity label', () => {
  it('two web VMs of a lost host restart on different hosts, not beside the web VM already running', () => {
    const web = { groups: ['web'], rules: [{ kind: 'anti-affinity' as const, target: { group: 'web' } }] };
    const hosts = [
      host('a', { vms: [{ name: 'w0', groups: ['web'] }] }),
      host('b'),
      host('c'),
    ];
    const plan = planFailover({
      vms: [vm('w1', { host: 'dead', ...web }), vm('w2', { host: 'dead', ...web })],
      hosts, lostSince: new Map([['dead', 0]]), now: 10_000, marginMs: 3000, pending: new Set(), policy: DEFAULT_POLICY,
    });
    expect(plan.restarts.map((r) => [r.vm, r.to])).toEqual([['w1', 'b'], ['w2', 'c']]);
    const crowded = planFailover({
      vms: [vm('w1', { host: 'dead', ...web }), vm('w2', { host: 'dead', ...web })],
      hosts: hosts.slice(0, 2), lostSince: new Map([['dead', 0]]), now: 10_000, marginMs: 3000, pending: new Set(), policy: DEFAULT_POLICY,
    });
    expect(crowded.restarts.map((r) => [r.vm, r.to])).toEqual([['w1', 'b']]);
    expect(crowded.stuck.map((s) => s.vm)).toEqual(['w2']);
  });
});
