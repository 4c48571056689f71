/**
 * The CPU and memory hot-plug capability (issue 22): a running instance can
 * take more vCPUs (and give hot-added ones back when its guest lets go), take
 * memory in DIMMs, and move its balloon target, without a restart.
 * lifecycle/vm-resize-service.ts decides when; drivers/qemu implements it with
 * query-hotpluggable-cpus + device_add, object-add + device_add pc-dimm, and
 * balloon / query-balloon.
 */

/** What the running VM has now, as QEMU reports it. */
export interface LiveResources {
  /** vCPUs plugged in (boot ones and hot-added ones). */
  cpus: number;
  /** The ceiling QEMU was started with (-smp maxcpus). */
  maxCpus: number;
  /** Boot RAM plus every plugged DIMM, bytes. */
  memoryBytes: number;
  /** Hot-added DIMMs (each takes one slot). */
  dimms: number;
  /** The guest's memory as the balloon leaves it (query-balloon actual); null without a balloon device. */
  balloonBytes: number | null;
}

/**
 * What was hot-added to a running VM, as its QEMU reports it: the target of a
 * live migration must start with the same boot-time layout and the same
 * devices (ids, CPU slots, DIMM addresses), or the migration stream does not
 * load. The spec carries only the totals (what a cold start boots with).
 */
export interface HotplugLayout {
  /** vCPUs QEMU started with (-smp cpus=). */
  bootCpus: number;
  /** Boot RAM (-m), bytes. */
  bootMemoryBytes: number;
  /** Hot-added vCPUs: the device type and slot properties (socket-id, die-id, core-id, thread-id, node-id) query-hotpluggable-cpus listed. */
  cpus: Array<{ id: string; type: string; props: Record<string, number> }>;
  /** Hot-added DIMMs: device id, backend id, size, guest address and slot, guest NUMA node. */
  dimms: Array<{ id: string; memdev: string; bytes: number; addr: number; slot: number; node: number }>;
}

export interface ResourceHotplug {
  readResources(signal: AbortSignal): Promise<LiveResources>;
  /** What was hot-added (empty lists when nothing was): a live migration's target starts with it. */
  readHotplugLayout(signal: AbortSignal): Promise<HotplugLayout>;
  /**
   * Plugs vCPUs in or takes hot-added ones out until `count` are plugged. Adding
   * is all or nothing; taking out waits (bounded) for the guest to release each
   * vCPU and fails with HOTPLUG_REFUSED naming the one it kept.
   */
  setCpus(count: number, signal: AbortSignal): Promise<void>;
  /** One DIMM of `bytes` (a memory backend and a pc-dimm); on failure the backend goes again. */
  addMemory(bytes: number, signal: AbortSignal): Promise<void>;
  /** Sets the balloon target (what the guest may keep) and answers QEMU's actual figure right after. */
  setBalloon(bytes: number, signal: AbortSignal): Promise<number>;
}

export function canHotplugResources(i: unknown): i is ResourceHotplug {
  const x = i as Partial<ResourceHotplug> | undefined;
  return typeof x?.readResources === 'function' && typeof x.readHotplugLayout === 'function' && typeof x.setCpus === 'function' && typeof x.addMemory === 'function' && typeof x.setBalloon === 'function';
}
