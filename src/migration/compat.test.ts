import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../drivers/index.js';
import { validateSpec } from '../spec/index.js';
import { checkCompatibility, describeIncompatibilities, type CompatInput } from './compat.js';

const MiB = 1024 ** 2;
const target: HostFacts = {
  qemuVersion: '7.2.22', machineTypes: ['pc', 'q35', 'pc-q35-7.2'], accel: 'tcg', cpuFlags: ['fpu', 'sse2', 'avx'],
  memAvailableBytes: 4096 * MiB, capabilities: ['xbzrle', 'auto-converge', 'postcopy-ram', 'pause-before-switchover', 'multifd'],
};
const input = (o: Partial<CompatInput> & { specExtra?: Record<string, unknown> } = {}): CompatInput => ({
  spec: validateSpec({ name: 'web', memory: '262084Ki', boot: { kernel: '/k' }, ...o.specExtra }),
  mode: 'live', source: { host: 'a', qemuVersion: '7.2.22', accel: 'tcg', cpuFlags: ['fpu', 'sse2'] }, features: [], memoryReserveBytes: 256 * MiB,
  ...o,
});

describe('migration compatibility check', () => {
  it('passes for the same QEMU, accelerator and machine type with memory to spare', () => {
    expect(checkCompatibility(input(), target)).toEqual([]);
  });

  it('names an unknown machine type and how to fix it', () => {
    const r = checkCompatibility(input(), { ...target, machineTypes: ['pc'] });
    expect(r.map((x) => x.what)).toEqual(['machine-type']);
    expect(r[0]!.fix).toMatch(/machine type q35/);
  });

  it('refuses a live move between accelerators, and to an older QEMU, but not an offline one', () => {
    const r = checkCompatibility(input({ source: { host: 'a', qemuVersion: '8.1.0', accel: 'kvm', cpuFlags: [] } }), target);
    expect(r.map((x) => x.what).sort()).toEqual(['accelerator', 'cpu-model', 'qemu-version']);
    expect(checkCompatibility(input({ mode: 'offline', source: { host: 'a', qemuVersion: '8.1.0', accel: 'kvm', cpuFlags: [] } }), target)).toEqual([]);
  });

  it('"host"/"max" under KVM need every source CPU flag on the target', () => {
    const kvm = { ...target, accel: 'kvm' as const };
    const src = { host: 'a', qemuVersion: '7.2.22', accel: 'kvm' as const, cpuFlags: ['fpu', 'sse2', 'avx512f'] };
    const r = checkCompatibility(input({ source: src, specExtra: { cpu: { model: 'host' }, machine: { accel: 'kvm' } } }), kvm);
    expect(r.map((x) => x.what)).toEqual(['cpu-model']);
    expect(r[0]!.target).toMatch(/missing avx512f/);
    expect(checkCompatibility(input({ source: src, specExtra: { cpu: { model: 'qemu64' } } }), kvm)).toEqual([]);
  });

  it('counts guest RAM + QEMU overhead + the host reserve against MemAvailable', () => {
    const r = checkCompatibility(input(), { ...target, memAvailableBytes: 400 * MiB });
    expect(r.map((x) => x.what)).toEqual(['memory']);
    expect(describeIncompatibilities(r)).toMatch(/memory: the VM needs 256 MiB of guest RAM .* the target has 400 MiB available/);
    expect(checkCompatibility(input({ memoryReserveBytes: 0 }), { ...target, memAvailableBytes: 400 * MiB })).toEqual([]);
  });

  it('refuses features the target QEMU lacks', () => {
    const r = checkCompatibility(input({ features: ['multifd', 'postcopy-ram'] }), { ...target, qemuVersion: '7.2.22', capabilities: ['postcopy-ram'] });
    expect(r.map((x) => `${x.what}:${x.source}`)).toEqual(['feature:multifd']);
  });
});
