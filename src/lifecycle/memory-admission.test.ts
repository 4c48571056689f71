import { describe, expect, it } from 'vitest';
import type { PolyvisorError } from '../shared/index.js';
import { checkHostMemory, memAvailable } from './memory-admission.js';

const MiB = 1024 ** 2;
const meminfo = (availMiB: number) => async () => `MemTotal:       24000000 kB\nMemFree:         100 kB\nMemAvailable:   ${availMiB * 1024} kB\n`;

describe('memory check at start (audit defect 10)', () => {
  it('reads MemAvailable', () => {
    expect(memAvailable('MemTotal: 1 kB\nMemAvailable:    2048 kB\n')).toBe(2 * 1024 * 1024);
    expect(memAvailable('nothing')).toBeUndefined();
  });

  it('passes when guest RAM + 64 MiB + the reserve fit, refuses with the figures when not', async () => {
    await checkHostMemory({ name: 'a', memory: 512 * MiB }, 256 * MiB, meminfo(832));
    const err = await checkHostMemory({ name: 'big', memory: 4096 * MiB }, 256 * MiB, meminfo(2000)).then(() => undefined, (e: unknown) => e as PolyvisorError);
    expect(err?.code).toBe('HOST_MEMORY_LOW');
    expect(err?.message).toBe('VM big needs 4096 MiB of guest RAM (+64 MiB for QEMU, +256 MiB the host keeps), and this host has 2000 MiB available');
  });

  it('an unreadable meminfo judges nothing', async () => {
    await checkHostMemory({ name: 'a', memory: 4096 * MiB }, 0, async () => { throw new Error('no /proc'); });
  });
});
