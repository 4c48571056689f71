/**
 * `vm resize` (issue 22): vCPUs, memory and the balloon target of a VM. On a
 * running (or paused) VM through the driver's ResourceHotplug: vCPUs first,
 * then memory (one DIMM for the whole increase), then the balloon; each step
 * is all or nothing in the driver, and the spec is saved right after each one
 * that changed the VM, so a restart keeps what the VM has and a failure in a
 * later step leaves the spec telling the truth about the earlier ones. On a
 * stopped VM the spec alone changes (no balloon: a VM starts with all of its
 * memory). Runs on the VM's job queue (VmService.exclusive()).
 *
 * Ceilings: cpu.max and memory.max.size (fixed in QEMU at start); memory grows
 * in whole 128 MiB blocks (the x86 Linux memory-block size, so a guest can
 * online all of it) and shrinks only while the VM is stopped. A running VM
 * whose memory is not a whole number of MiB (262084Ki, the size that keeps
 * QEMU 7.2's TCG migrations safe) grows from its size rounded up to a MiB:
 * 262084Ki asked for 384 MiB gets one 128 MiB DIMM, 393156Ki in all.
 */
import { canHotplugResources, type LiveResources, type ResourceHotplug, type VmInstance } from '../drivers/index.js';
import { fail, timeoutSignal, type Logger } from '../shared/index.js';
import type { ResizeBody, ResizeView, VmSpec } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';
import type { VmService } from './vm-service.js';

export type ResizeRequest = ResizeBody;
export type ResizeResult = ResizeView;

const MIB = 1024 ** 2;
/** A running VM's memory rounded up to whole MiB: what a memoryMiB request grows it from. */
const ceilMiB = (bytes: number): number => Math.ceil(bytes / MIB) * MIB;
/** The DIMM a request for `memoryMiB` adds to a VM running with `nowBytes` (≤ 0: none). */
export const liveGrowthBytes = (nowBytes: number, memoryMiB: number): number => memoryMiB * MIB - ceilMiB(nowBytes);
/** x86 Linux memory-block size: hot-added memory is onlined in these. */
export const MEMORY_BLOCK_MIB = 128;
const LIVE = new Set(['running', 'paused']);
const SPEC_ONLY = new Set(['created', 'stopped', 'error']);
const HOTPLUG_MS = 60_000;

export const cpuCeiling = (spec: VmSpec): number => spec.cpu.max ?? spec.cpu.count;
export const memoryCeiling = (spec: VmSpec): number => spec.memoryLayout?.max?.size ?? spec.memory;

/** Refusals that need no VM state: nothing asked, not whole numbers, beyond the spec's ceilings. */
export function checkResize(name: string, spec: VmSpec, r: ResizeRequest): void {
  if (r.cpus === undefined && r.memoryMiB === undefined && r.balloonMiB === undefined) fail('RESIZE_INVALID', `nothing to change for VM ${name}: give cpus, memoryMiB or balloonMiB`);
  for (const [k, v] of Object.entries(r)) {
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1)) fail('RESIZE_INVALID', `${k} must be a whole number of at least 1 (got ${String(v)})`);
  }
  if (r.cpus !== undefined && r.cpus > cpuCeiling(spec)) {
    fail('RESIZE_BEYOND_MAX', `cpus: requested ${r.cpus}, cpu.max of VM ${name} is ${cpuCeiling(spec)}${spec.cpu.max === undefined ? ' (no cpu.max: the count it started with)' : ''}`);
  }
  const maxMiB = memoryCeiling(spec) / MIB;
  if (r.memoryMiB !== undefined && r.memoryMiB > maxMiB) {
    const why = !spec.memoryLayout?.max ? ' (no memory.max: the memory it started with)' : maxMiB === spec.memory / MIB ? ' (memory.max equals memory: no memory hotplug; raise memory.max while it is stopped)' : '';
    fail('RESIZE_BEYOND_MAX', `memory: requested ${r.memoryMiB} MiB, memory.max of VM ${name} is ${maxMiB} MiB${why}`);
  }
  const memMiB = r.memoryMiB ?? spec.memory / MIB; // 262084Ki: 255.94 MiB, whose balloon may be set to 256 (all of it)
  if (r.balloonMiB !== undefined && r.balloonMiB > Math.ceil(memMiB)) fail('RESIZE_BEYOND_MAX', `balloon: requested ${r.balloonMiB} MiB, VM ${name} has ${memMiB} MiB of memory`);
}

/** The spec after a vCPU or memory change; with guest NUMA nodes the added memory belongs to node 0 (where the DIMM goes). */
export function resizedSpec(spec: VmSpec, cpus: number, memory: number): VmSpec {
  const delta = memory - spec.memory;
  const numa = spec.memoryLayout?.numa;
  return {
    ...spec,
    cpu: { ...spec.cpu, count: cpus },
    memory,
    ...(numa?.length && delta !== 0 ? { memoryLayout: { ...spec.memoryLayout, numa: numa.map((n, i) => (i === 0 ? { ...n, memory: n.memory + delta } : n)) } } : {}),
  };
}

export class ResizeService {
  private readonly log: Logger;

  constructor(private readonly o: { vms: VmService; logger: Logger }) {
    this.log = o.logger.child({ component: 'resize' });
  }

  resize(vm: string, r: ResizeRequest): Promise<ResizeResult> {
    return this.o.vms.exclusive(vm, async (rec, inst) => {
      checkResize(vm, rec.spec, r);
      // Role quotas (docs/security.md): a resize past the VM's hotplug ceiling grows what its owner holds.
      await this.o.vms.admit(resizedSpec(rec.spec, r.cpus ?? rec.spec.cpu.count, r.memoryMiB !== undefined ? r.memoryMiB * MIB : rec.spec.memory), rec);
      if (LIVE.has(rec.state) && inst) return this.live(rec, inst, r);
      if (!SPEC_ONLY.has(rec.state)) fail('INVALID_TRANSITION', `VM ${vm} is ${rec.state}; it resizes while created, stopped, running or paused`);
      if (r.balloonMiB !== undefined) fail('RESIZE_INVALID', `the balloon target applies to a running VM; ${vm} is ${rec.state} and starts with all of its memory`);
      if (r.memoryMiB !== undefined && (r.memoryMiB * MIB) % (2 * MIB) !== 0) fail('RESIZE_INVALID', 'memoryMiB must be a whole number of 2 MiB');
      const spec = resizedSpec(rec.spec, r.cpus ?? rec.spec.cpu.count, r.memoryMiB !== undefined ? r.memoryMiB * MIB : rec.spec.memory);
      const out = await this.o.vms.saveSpec(rec, spec);
      const changed = [...(r.cpus !== undefined && r.cpus !== rec.spec.cpu.count ? ['cpus' as const] : []), ...(spec.memory !== rec.spec.memory ? ['memory' as const] : [])];
      this.log.info({ vm, cpus: spec.cpu.count, memory: spec.memory }, 'VM resized (spec only)');
      return view(out.spec, vm, false, null, changed);
    });
  }

  private async live(rec: VmRecord, inst: VmInstance, r: ResizeRequest): Promise<ResizeResult> {
    const vm = rec.name;
    if (!canHotplugResources(inst)) fail('HOTPLUG_UNSUPPORTED', `VM ${vm}'s driver cannot change CPUs or memory while it runs; stop it and resize it`);
    const hot: ResourceHotplug = inst;
    const now = await hot.readResources(timeoutSignal(HOTPLUG_MS));
    checkLive(vm, rec.spec, now, r);
    const changed: ResizeResult['changed'] = [];
    let cur = rec;
    if (r.cpus !== undefined && r.cpus !== now.cpus) {
      await hot.setCpus(r.cpus, timeoutSignal(HOTPLUG_MS));
      cur = await this.o.vms.saveSpec(cur, resizedSpec(cur.spec, r.cpus, cur.spec.memory));
      changed.push('cpus');
      this.log.info({ vm, from: now.cpus, to: r.cpus }, 'vCPUs hot-plugged');
    }
    if (r.memoryMiB !== undefined && liveGrowthBytes(now.memoryBytes, r.memoryMiB) > 0) {
      const bytes = liveGrowthBytes(now.memoryBytes, r.memoryMiB);
      await hot.addMemory(bytes, timeoutSignal(HOTPLUG_MS));
      // The spec's size plus the DIMM (QEMU rounds -m up to 8 KiB: 262084Ki runs as 262088 KiB, the spec keeps what was written).
      cur = await this.o.vms.saveSpec(cur, resizedSpec(cur.spec, cur.spec.cpu.count, cur.spec.memory + bytes));
      changed.push('memory');
      this.log.info({ vm, added: bytes, to: cur.spec.memory }, 'memory hot-plugged');
    }
    let balloon = now.balloonBytes;
    if (r.balloonMiB !== undefined) {
      balloon = await hot.setBalloon(r.balloonMiB * MIB, timeoutSignal(HOTPLUG_MS));
      changed.push('balloon');
      this.log.info({ vm, target: r.balloonMiB * MIB, actual: balloon }, 'balloon target set');
    }
    return view(cur.spec, vm, true, balloon, changed);
  }
}

/** Refusals against what the running QEMU has (its ceilings were fixed at start). */
function checkLive(vm: string, spec: VmSpec, now: LiveResources, r: ResizeRequest): void {
  if (r.cpus !== undefined && r.cpus > now.maxCpus) fail('RESIZE_BEYOND_MAX', `cpus: requested ${r.cpus}, VM ${vm} was started with room for ${now.maxCpus} (cpu.max)`);
  if (r.memoryMiB !== undefined) {
    const want = r.memoryMiB * MIB;
    if (want < now.memoryBytes) {
      fail('RESIZE_INVALID', `memory: VM ${vm} runs with ${now.memoryBytes / MIB} MiB; memory shrinks only while it is stopped (lower what the guest holds with balloonMiB)`);
    }
    const delta = liveGrowthBytes(now.memoryBytes, r.memoryMiB);
    if (delta > 0 && delta % (MEMORY_BLOCK_MIB * MIB) !== 0) {
      fail('RESIZE_INVALID', `memory: VM ${vm} runs with ${now.memoryBytes / MIB} MiB; it grows in whole ${MEMORY_BLOCK_MIB} MiB blocks (asked +${delta / MIB} MiB)`);
    }
    const slots = spec.memoryLayout?.max?.slots;
    if (delta > 0 && (slots === undefined || now.dimms >= slots)) {
      fail('RESIZE_BEYOND_MAX', `memory: VM ${vm} has ${slots === undefined ? 'no DIMM slots (no memory.max when it started)' : `used all ${slots} DIMM slots (memory.max.slots)`}`);
    }
  }
  if (r.balloonMiB !== undefined && now.balloonBytes === null) fail('HOTPLUG_UNSUPPORTED', `VM ${vm} has no balloon device (memory.balloon.enabled is false, or it was started before every VM had one)`);
}

function view(spec: VmSpec, vm: string, live: boolean, balloon: number | null, changed: ResizeResult['changed']): ResizeResult {
  return {
    vm, live, cpus: spec.cpu.count, maxCpus: cpuCeiling(spec), memoryMiB: spec.memory / MIB, maxMemoryMiB: memoryCeiling(spec) / MIB,
    balloonMiB: balloon === null ? null : Math.floor(balloon / MIB), changed,
  };
}
