/**
 * The NIC hot-plug capability: a running instance can take a NIC on a tap
 * the host already plumbed, give one back, and set the link state its guest
 * sees, without a restart. lifecycle/nic-hotplug-service.ts decides when;
 * drivers/qemu implements it with netdev_add + device_add and set_link.
 */
import type { NetworkSpec } from '../spec/index.js';

export interface HotplugNic {
  /** The spec NIC name (QEMU netdev and device ids derive from it). */
  name: string;
  /** The tap the host created and enslaved to the network's bridge; QEMU only opens it. */
  tap: string;
  mac: string;
  model: NetworkSpec['model'];
  /** The link state the guest sees from the start. */
  linkUp: boolean;
  /** The MTU the guest must use (virtio: host_mtu); absent: the default 1500. */
  mtu?: number;
}

export interface NicHotplug {
  /** Plugs `nic` in; on failure nothing stays plugged (no device, no netdev). */
  attachNic(nic: HotplugNic, signal: AbortSignal): Promise<void>;
  /** Asks the guest to release the device, waits until it did (DEVICE_DELETED), then closes the tap. */
  detachNic(name: string, signal: AbortSignal): Promise<void>;
  /** The link state the guest sees (carrier up or down); the host side is untouched. */
  setNicLink(name: string, up: boolean, signal: AbortSignal): Promise<void>;
}

export function canHotplugNics(i: unknown): i is NicHotplug {
  const x = i as Partial<NicHotplug> | undefined;
  return typeof x?.attachNic === 'function' && typeof x.detachNic === 'function' && typeof x.setNicLink === 'function';
}
