import { describe, expect, it } from 'vitest';
import { compileRequest } from './compiled-request.js';
import { devicesFilter } from './filters-devices.js';
import { LiveHost, whereaboutsOf } from './live-host.js';
import { placeAll } from './place-all.js';
import { DEFAULT_POLICY } from './policy.js';
import { explain } from './schedule.js';
import { host, vm } from './test-hosts.js';
import type { HostCandidate, HostTopology, PlacementRequest } from './types.js';

/** The GPU host of test/fixtures/host-sysfs/gpu-iommu as published: a GTX 1080 on vfio-pci, a T4 on nvidia with vGPU types. */
const GPU_HOST: HostTopology = {
  nodes: [{ id: 0, cpus: 16, memoryBytes: 188 * 1024 ** 3 }],
  gpus: [
    { address: '0000:01:00.0', model: '10de:1b80', free: true },
    { address: '0000:3b:00.0', model: '10de:1eb8', free: false, mdev: { 'nvidia-232': 3, 'nvidia-233': 1, 'nvidia-222': 0 } },
  ],
};
const gpuHost = (name: string, over: Partial<HostCandidate> = {}) => host(name, { topology: GPU_HOST, ...over });
const run = (req: PlacementRequest, h: HostCandidate) => {
  const live = new LiveHost(h);
  return devicesFilter(compileRequest(req, DEFAULT_POLICY), live, DEFAULT_POLICY, whereaboutsOf([live]));
};

describe('devices filter', () => {
  it('a free GPU of the model (or address) asked passes; one in use, absent or asked twice is refused naming what the host has', () => {
    expect(run(vm('a', { topology: { gpus: ['10de:1b80'] } }), gpuHost('h'))).toBeUndefined();
    expect(run(vm('a', { topology: { gpus: ['0000:01:00.0'] } }), gpuHost('h'))).toBeUndefined();
    expect(run(vm('a', { topology: { gpus: ['10de:1eb8'] } }), gpuHost('h'))).toBe('no free GPU 10de:1eb8: 0000:3b:00.0 in use or not on vfio-pci');
    expect(run(vm('a', { topology: { gpus: ['10de:1b80', '10de:1b80'] } }), gpuHost('h'))).toBe('no free GPU 10de:1b80: 0000:01:00.0 asked twice');
    expect(run(vm('a', { topology: { gpus: ['10de:20b0'] } }), gpuHost('h'))).toBe('no GPU 10de:20b0 on this host (has 10de:1b80, 10de:1eb8)');
  });

  it('mdev types need free instances, counted per type', () => {
    expect(run(vm('a', { topology: { mdevTypes: ['nvidia-232', 'nvidia-232', 'nvidia-233'] } }), gpuHost('h'))).toBeUndefined();
    expect(run(vm('a', { topology: { mdevTypes: ['nvidia-233', 'nvidia-233'] } }), gpuHost('h'))).toBe('no free instance of mdev type nvidia-233 (0000:3b:00.0: 1 free)');
    expect(run(vm('a', { topology: { mdevTypes: ['nvidia-222'] } }), gpuHost('h'))).toBe('no free instance of mdev type nvidia-222 (0000:3b:00.0: 0 free)');
    expect(run(vm('a', { topology: { mdevTypes: ['i915-GVTg_V5_4'] } }), gpuHost('h'))).toBe('no device of this host offers mdev type i915-GVTg_V5_4');
    expect(run(vm('a', { topology: { mdevTypes: ['nvidia-232'] } }), host('plain'))).toBe('needs devices; this host published no device inventory');
    expect(run(vm('a'), host('plain'))).toBeUndefined();
  });

  it('placement gives each GPU and instance once; schedule explain names the devices filter on the host refused', () => {
    const reqs = [1, 2].map((i) => vm(`g${i}`, { topology: { gpus: ['10de:1b80'] } }));
    const r = placeAll(reqs, [gpuHost('a'), gpuHost('b'), host('c')], DEFAULT_POLICY);
    expect(r.placements.map((p) => p.host).sort()).toEqual(['a', 'b']);
    const v = placeAll([1, 2, 3, 4].map((i) => vm(`v${i}`, { topology: { mdevTypes: ['nvidia-232'] } })), [gpuHost('a')], DEFAULT_POLICY);
    expect(v.placements.map((p) => p.host)).toEqual(['a', 'a', 'a', null]);
    const rows = explain(vm('x', { topology: { gpus: ['10de:1eb8'] } }), [gpuHost('a'), host('c')], DEFAULT_POLICY);
    expect(rows.map((row) => [row.host, row.verdicts.find((x) => !x.pass)])).toEqual([
      ['a', { filter: 'devices', pass: false, reason: 'no free GPU 10de:1eb8: 0000:3b:00.0 in use or not on vfio-pci' }],
      ['c', { filter: 'devices', pass: false, reason: 'needs devices; this host published no device inventory' }],
    ]);
  });
});
