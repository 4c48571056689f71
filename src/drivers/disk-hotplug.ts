/**
 * The disk hot-plug capability: a running instance can take a new disk and
 * give one back without a restart. lifecycle/disk-service.ts decides when;
 * drivers/qemu implements it with blockdev-add + device_add.
 */
import type { DiskSpec } from '../spec/index.js';

export interface HotplugDisk {
  /** The spec disk name (QEMU node and device ids derive from it). */
  name: string;
  path: string;
  format: DiskSpec['format'];
  readOnly: boolean;
  cache: DiskSpec['cache'];
}

export interface DiskHotplug {
  /** Plugs `disk` in as a virtio-blk device; on failure nothing stays plugged. */
  attachDisk(disk: HotplugDisk, signal: AbortSignal): Promise<void>;
  /** Asks the guest to release the device, waits until it did, then closes the image. */
  detachDisk(name: string, signal: AbortSignal): Promise<void>;
}

export function canHotplugDisks(i: unknown): i is DiskHotplug {
  return typeof (i as Partial<DiskHotplug> | undefined)?.attachDisk === 'function' && typeof (i as Partial<DiskHotplug>).detachDisk === 'function';
}
