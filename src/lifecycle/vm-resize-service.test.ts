import { describe, expect, it } from 'vitest';
import { validateSpec } from '../spec/index.js';
import { checkResize, liveGrowthBytes, resizedSpec } from './vm-resize-service.js';

const MIB = 1024 ** 2;
const spec = validateSpec({ name: 'a', disks: [{ name: 'root', size: '1Mi' }], cpu: { count: 1, max: 3 }, memory: { size: '256Mi', max: { size: '512Mi' } } });

describe('vm resize checks (no VM needed)', () => {
  it('refuses nothing asked, non-whole numbers and requests beyond cpu.max / memory.max, naming field, requested and max', () => {
    expect(() => checkResize('a', spec, {})).toThrow(expect.objectContaining({ code: 'RESIZE_INVALID' }));
    expect(() => checkResize('a', spec, { cpus: 1.5 })).toThrow(expect.objectContaining({ code: 'RESIZE_INVALID' }));
    expect(() => checkResize('a', spec, { cpus: 4 })).toThrow(expect.objectContaining({ code: 'RESIZE_BEYOND_MAX', message: 'cpus: requested 4, cpu.max of VM a is 3' }));
    expect(() => checkResize('a', spec, { memoryMiB: 1024 })).toThrow(expect.objectContaining({ code: 'RESIZE_BEYOND_MAX', message: 'memory: requested 1024 MiB, memory.max of VM a is 512 MiB' }));
    expect(() => checkResize('a', spec, { memoryMiB: 384, balloonMiB: 400 })).toThrow(expect.objectContaining({ code: 'RESIZE_BEYOND_MAX', message: 'balloon: requested 400 MiB, VM a has 384 MiB of memory' }));
    expect(() => checkResize('a', spec, { cpus: 3, memoryMiB: 512, balloonMiB: 512 })).not.toThrow();
  });

  it('without cpu.max or memory.max the ceiling is what the VM has', () => {
    const plain = validateSpec({ name: 'b', disks: [{ name: 'root', size: '1Mi' }], cpu: { count: 2 }, memory: '128Mi' });
    expect(() => checkResize('b', plain, { cpus: 3 })).toThrow(expect.objectContaining({ message: 'cpus: requested 3, cpu.max of VM b is 2 (no cpu.max: the count it started with)' }));
    expect(() => checkResize('b', plain, { memoryMiB: 256 })).toThrow(expect.objectContaining({ code: 'RESIZE_BEYOND_MAX' }));
  });

  it('memory.max equal to memory is a VM without memory hotplug: growing it is refused, saying so', () => {
    const full = validateSpec({ name: 'f', disks: [{ name: 'root', size: '1Mi' }], memory: { size: '512Mi', max: { size: '512Mi' } } });
    expect(() => checkResize('f', full, { memoryMiB: 640 })).toThrow(expect.objectContaining({
      code: 'RESIZE_BEYOND_MAX', message: 'memory: requested 640 MiB, memory.max of VM f is 512 MiB (memory.max equals memory: no memory hotplug; raise memory.max while it is stopped)',
    }));
    expect(() => checkResize('f', full, { memoryMiB: 256 })).not.toThrow(); // shrinking (a stopped VM) is fine
  });

  it('the resized spec keeps NUMA nodes adding up (the DIMM goes to node 0) and stays valid at the ceiling', () => {
    const numa = validateSpec({ name: 'n', disks: [{ name: 'root', size: '1Mi' }], cpu: { count: 2, max: 4 }, memory: { size: '256Mi', max: { size: '512Mi' }, numa: [{ cpus: '0,2', memory: '128Mi' }, { cpus: '1,3', memory: '128Mi' }] } });
    const r = resizedSpec(numa, 3, 384 * MIB);
    expect(r.cpu.count).toBe(3);
    expect(r.memoryLayout?.numa?.map((n) => n.memory / MIB)).toEqual([256, 128]);
    const full = resizedSpec(spec, 3, 512 * MIB);
    expect(full.memory).toBe(512 * MIB);
  });

  it('a running VM of a size that is not whole MiB (262084Ki) grows from that size rounded up: 384 MiB asked adds one 128 MiB DIMM', () => {
    expect(liveGrowthBytes(262084 * 1024, 384)).toBe(128 * MIB);
    expect(liveGrowthBytes(262084 * 1024, 256)).toBe(0); // nothing to add
    expect(liveGrowthBytes(256 * MIB, 384)).toBe(128 * MIB); // whole MiB: as before
    expect(liveGrowthBytes(256 * MIB, 300) % (128 * MIB)).not.toBe(0); // refused by the block rule
    const odd = validateSpec({ name: 'o', disks: [{ name: 'root', size: '1Mi' }], memory: { size: '393156Ki', max: { size: '512Mi' } } });
    expect(() => checkResize('o', odd, { balloonMiB: 384 })).not.toThrow(); // all of its 383.94 MiB
    expect(() => checkResize('o', odd, { balloonMiB: 385 })).toThrow(expect.objectContaining({ code: 'RESIZE_BEYOND_MAX' }));
  });
});
