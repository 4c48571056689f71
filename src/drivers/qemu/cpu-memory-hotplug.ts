/**
 * CPU and memory hot-plug and the balloon target over QMP (issue 22).
 *
 * vCPUs: `query-hotpluggable-cpus` lists every slot up to -smp maxcpus with
 * the CPU type and its socket/die/core/thread ids; a slot without a qom-path
 * is empty, and `device_add` of that type with those ids fills it (id
 * pv-cpu-S-D-C-T, so the ones we added are found again, also after a daemon
 * restart). Only hot-added vCPUs can come out: device_del, then the guest
 * ejects it (DEVICE_DELETED) within UNPLUG_TIMEOUT_MS or it is refused.
 *
 * Memory: `object-add` of a backend like the VM's RAM (memfd with hugetlb
 * when the spec asks for hugepages, plain RAM otherwise) and `device_add
 * pc-dimm` on it (on guest node 0 when the spec has NUMA nodes); if the DIMM
 * does not go in, the backend is removed again (object-del). pc-dimm, not
 * virtio-mem: QEMU 7.2 has both, but a DIMM needs no guest driver (ACPI
 * memory hot-plug is built into Debian's kernels, virtio_mem is a module) and
 * libvirt's <memory model='dimm'> is the same device, so the bench compares
 * like with like.
 *
 * Balloon: `balloon` (bytes the guest may keep) and `query-balloon` (actual).
 */
import type { QmpClient } from '../../qmp/index.js';
import { PolyvisorError, isPolyvisorError } from '../../shared/index.js';
import { HUGEPAGE_BYTES, type VmSpec } from '../../spec/index.js';
import type { HotplugLayout, LiveResources } from '../resource-hotplug.js';
import { UNPLUG_TIMEOUT_MS, unplugDevice } from './hotplug.js';

interface CpuSlot {
  type: string;
  'vcpus-count': number;
  'qom-path'?: string;
  props: Record<string, number>;
}
interface MemoryDevice { type: string; data: { id?: string; size: number; memdev?: string; addr?: number; slot?: number; node?: number } }

const CPU_PREFIX = 'pv-cpu-';
const DIMM_PREFIX = 'pv-dimm';
const MEM_PREFIX = 'pv-mem';
const PERIPHERAL = '/machine/peripheral/';

const cpuId = (p: Record<string, number>): string =>
  `${CPU_PREFIX}${p['socket-id'] ?? 0}-${p['die-id'] ?? 0}-${p['core-id'] ?? 0}-${p['thread-id'] ?? 0}`;
const hotAdded = (s: CpuSlot): boolean => s['qom-path']?.startsWith(`${PERIPHERAL}${CPU_PREFIX}`) === true;

/** Slots in the order QEMU numbers vCPUs (socket, die, core, thread), lowest first. */
function ordered(slots: CpuSlot[]): CpuSlot[] {
  const key = (s: CpuSlot): number[] => ['socket-id', 'die-id', 'core-id', 'thread-id'].map((k) => s.props[k] ?? 0);
  return [...slots].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
    return 0;
  });
}

async function cpuSlots(qmp: QmpClient, signal: AbortSignal): Promise<CpuSlot[]> {
  return ordered(await qmp.execute<CpuSlot[]>('query-hotpluggable-cpus', undefined, { signal }));
}

export async function readResources(qmp: QmpClient, signal: AbortSignal): Promise<LiveResources> {
  const slots = await cpuSlots(qmp, signal);
  const mem = await qmp.execute<{ 'base-memory': number; 'plugged-memory'?: number }>('query-memory-size-summary', undefined, { signal });
  const devices = await qmp.execute<MemoryDevice[]>('query-memory-devices', undefined, { signal });
  const balloon = await qmp.execute<{ actual: number }>('query-balloon', undefined, { signal }).then((b) => b.actual, (err: unknown) => {
    if (isPolyvisorError(err, 'QMP_FAILED')) return null; // no balloon device (a VM started before every VM had one)
    throw err;
  });
  return {
    cpus: slots.filter((s) => s['qom-path'] !== undefined).reduce((n, s) => n + s['vcpus-count'], 0),
    maxCpus: slots.reduce((n, s) => n + s['vcpus-count'], 0),
    memoryBytes: mem['base-memory'] + (mem['plugged-memory'] ?? 0),
    dimms: devices.filter((d) => d.type === 'dimm').length,
    balloonBytes: balloon,
  };
}

/**
 * The boot-time layout and what was hot-added, for a live migration's target
 * (argv-hotplugged.ts): vCPUs QEMU plugged at start are the plugged slots that
 * are not our pv-cpu-* devices; DIMMs are every pc-dimm with its backend,
 * address and slot.
 */
export async function readHotplugLayout(qmp: QmpClient, signal: AbortSignal): Promise<HotplugLayout> {
  const slots = await cpuSlots(qmp, signal);
  const mem = await qmp.execute<{ 'base-memory': number }>('query-memory-size-summary', undefined, { signal });
  const devices = await qmp.execute<MemoryDevice[]>('query-memory-devices', undefined, { signal });
  const added = slots.filter(hotAdded);
  return {
    bootCpus: slots.filter((s) => s['qom-path'] !== undefined && !hotAdded(s)).reduce((n, s) => n + s['vcpus-count'], 0),
    bootMemoryBytes: mem['base-memory'],
    cpus: added.map((s) => ({ id: s['qom-path']!.slice(PERIPHERAL.length), type: s.type, props: s.props })),
    dimms: devices.filter((d) => d.type === 'dimm').map((d) => {
      if (d.data.id === undefined || d.data.memdev === undefined) {
        throw new PolyvisorError('MIGRATION_FAILED', 'a DIMM without an id or backend is plugged into this VM (added outside Polyvisor); it cannot be recreated on a migration target');
      }
      return { id: d.data.id, memdev: d.data.memdev.replace(/^\/objects\//, ''), bytes: d.data.size, addr: d.data.addr ?? 0, slot: d.data.slot ?? 0, node: d.data.node ?? 0 };
    }),
  };
}

/** Plugs empty slots (lowest ids first) or takes hot-added vCPUs out (highest first) until `count` are plugged. */
export async function setCpus(qmp: QmpClient, count: number, signal: AbortSignal): Promise<void> {
  const slots = await cpuSlots(qmp, signal);
  let plugged = slots.filter((s) => s['qom-path'] !== undefined).reduce((n, s) => n + s['vcpus-count'], 0);
  if (count > plugged) {
    const added: string[] = [];
    try {
      for (const s of slots) {
        if (plugged >= count) break;
        if (s['qom-path'] !== undefined) continue;
        const id = cpuId(s.props);
        await qmp.execute('device_add', { driver: s.type, id, ...s.props }, { signal });
        added.push(id);
        plugged += s['vcpus-count'];
      }
    } catch (err) {
      // All or nothing: what went in comes out again (best effort; a guest that already onlined one may keep it).
      for (const id of added.reverse()) await unplugDevice(qmp, id, `vCPU ${id}`, AbortSignal.timeout(UNPLUG_TIMEOUT_MS)).catch(() => undefined);
      throw err;
    }
    return;
  }
  for (const s of [...slots].reverse()) {
    if (plugged <= count) break;
    if (s['qom-path'] === undefined) continue;
    if (!hotAdded(s)) {
      throw new PolyvisorError('HOTPLUG_REFUSED', `only vCPUs added while the VM runs can be taken out; ${plugged} are plugged and the rest were there at start`, {
        hint: 'Stop the VM, resize it (the spec alone changes) and start it again.',
      });
    }
    const id = s['qom-path']!.slice(PERIPHERAL.length);
    try {
      await unplugDevice(qmp, id, `vCPU ${id}`, signal);
    } catch (err) {
      if (isPolyvisorError(err, 'HOTPLUG_UNSUPPORTED')) throw new PolyvisorError('HOTPLUG_REFUSED', err.message, { cause: err });
      throw err;
    }
    plugged -= s['vcpus-count'];
  }
}

/** A backend like the VM's RAM for one DIMM. */
function backendProps(spec: VmSpec, id: string, bytes: number): Record<string, unknown> {
  const hp = spec.memoryLayout?.hugepages;
  return hp
    ? { 'qom-type': 'memory-backend-memfd', id, size: bytes, hugetlb: true, hugetlbsize: HUGEPAGE_BYTES[hp.size], prealloc: true }
    : { 'qom-type': 'memory-backend-ram', id, size: bytes };
}

export async function addMemory(qmp: QmpClient, spec: VmSpec, bytes: number, signal: AbortSignal): Promise<void> {
  const devices = await qmp.execute<MemoryDevice[]>('query-memory-devices', undefined, { signal });
  const used = new Set(devices.map((d) => d.data.id));
  let i = 0;
  while (used.has(`${DIMM_PREFIX}${i}`)) i++;
  const mem = `${MEM_PREFIX}${i}`;
  await qmp.execute('object-add', backendProps(spec, mem, bytes), { signal });
  try {
    await qmp.execute('device_add', {
      driver: 'pc-dimm', id: `${DIMM_PREFIX}${i}`, memdev: mem, ...(spec.memoryLayout?.numa?.length ? { node: 0 } : {}),
    }, { signal });
  } catch (err) {
    await qmp.execute('object-del', { id: mem }).catch(() => undefined);
    throw err;
  }
}

export async function setBalloon(qmp: QmpClient, bytes: number, signal: AbortSignal): Promise<number> {
  try {
    await qmp.execute('balloon', { value: bytes }, { signal });
  } catch (err) {
    if (isPolyvisorError(err, 'QMP_FAILED') && /No balloon|not active|not available/i.test(err.message)) {
      throw new PolyvisorError('HOTPLUG_UNSUPPORTED', 'this VM has no active balloon device (its guest has no virtio_balloon driver, or it was started before every VM had one)', { cause: err });
    }
    throw err;
  }
  return (await qmp.execute<{ actual: number }>('query-balloon', undefined, { signal })).actual;
}
