/**
 * What was hot-added to the VM being moved (vm resize): the target QEMU starts
 * with the source's boot-time layout and the same vCPU and DIMM devices
 * (drivers/qemu/argv-hotplugged.ts), read from the source QEMU right before
 * the move, so it is right also after a daemon restart or an earlier move.
 */
import { canHotplugResources, type HotplugLayout, type VmInstance } from '../drivers/index.js';

/** The layout when something was hot-added; undefined otherwise (the target then boots from the spec alone). */
export async function hotplugLayoutOf(source: VmInstance, signal: AbortSignal): Promise<HotplugLayout | undefined> {
  if (!canHotplugResources(source)) return undefined;
  const h = await source.readHotplugLayout(signal);
  return h.cpus.length > 0 || h.dimms.length > 0 ? h : undefined;
}
