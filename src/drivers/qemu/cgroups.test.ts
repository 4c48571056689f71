import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VmCgroups, cgroupLimits, limitFiles } from './cgroups.js';

const MiB = 1024 ** 2;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pv-cg-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('per-VM cgroup limits', () => {
  it('the vCPUs plus one core, RAM plus a quarter plus overhead (more under TCG), 1024 threads', () => {
    const spec = { cpu: { count: 2 }, memory: 512 * MiB } as Parameters<typeof cgroupLimits>[0];
    expect(cgroupLimits(spec, 'kvm')).toEqual({ cpuPeriodUs: 100_000, cpuQuotaUs: 300_000, memoryBytes: (512 + 128 + 384) * MiB, pids: 1024 });
    expect(cgroupLimits(spec, 'tcg').memoryBytes).toBe((512 + 128 + 1280) * MiB);
  });

  it('v2 writes cpu.max, memory.max and pids.max; v1 one file set per controller', () => {
    const l = { cpuPeriodUs: 100_000, cpuQuotaUs: 200_000, memoryBytes: 1000, pids: 64 };
    expect(limitFiles('v2', l)).toEqual({ '': { 'cpu.max': '200000 100000', 'memory.max': '1000', 'pids.max': '64' } });
    expect(limitFiles('v1', l)).toEqual({
      cpu: { 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '200000' }, memory: { 'memory.limit_in_bytes': '1000' }, pids: { 'pids.max': '64' },
    });
  });

  it('on a v1 layout (plain folders stand in for the controllers): makes the groups, writes the limits and the PID, removes them', async () => {
    const root = path.join(tmp, 'v1');
    for (const c of ['cpu', 'memory', 'pids']) {
      mkdirSync(path.join(root, c), { recursive: true });
      writeFileSync(path.join(root, c, 'cgroup.procs'), '');
    }
    const cg = new VmCgroups(root);
    expect(await cg.probe()).toBe('v1');
    const dirs = await cg.place('abc', 4242, { cpuPeriodUs: 100_000, cpuQuotaUs: 200_000, memoryBytes: 1000, pids: 64 });
    expect(dirs).toEqual(['cpu', 'memory', 'pids'].map((c) => path.join(root, c, 'polyvisor', 'vm-abc')));
    expect(readFileSync(path.join(root, 'cpu', 'polyvisor', 'vm-abc', 'cpu.cfs_quota_us'), 'utf8')).toBe('200000');
    expect(readFileSync(path.join(root, 'memory', 'polyvisor', 'vm-abc', 'memory.limit_in_bytes'), 'utf8')).toBe('1000');
    expect(readFileSync(path.join(root, 'pids', 'polyvisor', 'vm-abc', 'cgroup.procs'), 'utf8')).toBe('4242');
    // A real cgroup directory is empty to rmdir; these folders hold plain files, so clear them first.
    for (const d of dirs!) rmSync(d, { recursive: true });
    await cg.remove('abc');
    expect(existsSync(path.join(root, 'cpu', 'polyvisor', 'vm-abc'))).toBe(false);
  });

  it('says why when neither hierarchy is there, and places nothing', async () => {
    const cg = new VmCgroups(path.join(tmp, 'nothing'));
    expect(await cg.probe()).toEqual({ unavailable: expect.stringMatching(/no cgroup v2 .* v1 cpu, memory and pids controllers are not all mounted/) });
    expect(await cg.place('x', 1, cgroupLimits({ cpu: { count: 1 }, memory: MiB } as Parameters<typeof cgroupLimits>[0], 'tcg'))).toBeUndefined();
  });
});
