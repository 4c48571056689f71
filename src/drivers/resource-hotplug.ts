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

export interface ResourceHotplug {
  readResources(signal: AbortSignal): Promise<LiveResources>;
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
  return typeof x?.readResources === 'function' && typeof x.setCpus === 'function' && typeof x.addMemory === 'function' && typeof x.setBalloon === 'function';
}
