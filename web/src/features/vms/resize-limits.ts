/**
 * What the VM page's resize control may offer (pure): vCPUs and memory up to
 * cpu.max / memory.max (hot-plugged on a running VM: memory only up, in
 * 128 MiB blocks), the balloon target on a running VM with a balloon, and,
 * for each, why it is disabled ('' when it is not). The daemon checks all of
 * it again (POST /v1/vms/NAME/resize); this only keeps the form honest.
 */
import type { VmView } from '../../api/types.js';

const MIB = 1024 ** 2;
export const MEMORY_BLOCK_MIB = 128;
export const RESIZE_PERMISSION_WHY = 'needs the vm:operate permission (role operator or admin)';

export interface ResizeField {
  now: number;
  min: number;
  max: number;
  step: number;
  why: string;
}

export interface ResizeLimits {
  live: boolean;
  cpus: ResizeField;
  memoryMiB: ResizeField;
  balloonMiB: ResizeField;
}

const LIVE = new Set(['running', 'paused']);
const STILL = new Set(['created', 'stopped', 'error']);

export function resizeLimits(vm: VmView, canOperate: boolean): ResizeLimits {
  const s = vm.spec;
  const live = LIVE.has(vm.state);
  const busy = !live && !STILL.has(vm.state) ? `VM ${vm.name} is ${vm.state}: wait until it is running or stopped` : '';
  const base = !canOperate ? RESIZE_PERMISSION_WHY : busy;
  const memNow = Math.ceil(s.memory / MIB);
  const cpuMax = s.cpu.max ?? s.cpu.count;
  const memMax = Math.floor((s.memoryLayout?.max?.size ?? s.memory) / MIB);
  const cpus: ResizeField = {
    now: s.cpu.count, min: live ? s.cpu.count : 1, max: cpuMax, step: 1,
    why: base || (live && cpuMax <= s.cpu.count ? `no room: cpu.max is ${cpuMax} (raise it while the VM is stopped)` : ''),
  };
  const memoryMiB: ResizeField = live
    ? { now: memNow, min: memNow, max: memNow + Math.floor((memMax - memNow) / MEMORY_BLOCK_MIB) * MEMORY_BLOCK_MIB, step: MEMORY_BLOCK_MIB, why: base || (memMax - memNow < MEMORY_BLOCK_MIB ? `no room: memory.max is ${memMax} MiB (grows in ${MEMORY_BLOCK_MIB} MiB blocks; raise it while the VM is stopped)` : '') }
    : { now: memNow, min: 16, max: memMax, step: 1, why: base };
  const hasBalloon = s.memoryLayout?.balloon?.enabled !== false;
  const balloonMiB: ResizeField = {
    now: memNow, min: 16, max: memNow, step: 1,
    why: base || (!live ? 'only on a running VM (a VM starts with all of its memory)' : !hasBalloon ? 'the VM has no balloon (memory.balloon.enabled is false)' : ''),
  };
  return { live, cpus, memoryMiB, balloonMiB };
}
