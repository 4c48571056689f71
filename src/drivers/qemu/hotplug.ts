/**
 * Disk hot-plug over QMP: blockdev-add (protocol + format node, as the argv
 * builder makes them) and device_add virtio-blk-pci, into a free PCIe root
 * port on q35 or straight onto pc's PCI bus. Unplug: device_del, wait for the
 * guest to let go (DEVICE_DELETED), then blockdev-del both nodes.
 */
import type { QmpClient } from '../../qmp/index.js';
import { PolyvisorError, fail, isPolyvisorError } from '../../shared/index.js';
import type { HotplugDisk } from '../disk-hotplug.js';
import { HOTPLUG_PORTS, hotplugPortId } from './argv-extras.js';
import { diskNodes } from './names.js';

const CACHE = {
  writeback: { direct: false, 'no-flush': false },
  none: { direct: true, 'no-flush': false },
  writethrough: { direct: false, 'no-flush': false },
  directsync: { direct: true, 'no-flush': false },
  unsafe: { direct: false, 'no-flush': true },
} as const;

/** How long the guest gets to release an unplugged device. */
export const UNPLUG_TIMEOUT_MS = 30_000;

export async function hotplugDisk(qmp: QmpClient, machine: 'q35' | 'pc', d: HotplugDisk, signal: AbortSignal): Promise<void> {
  const n = diskNodes(d.name);
  const common = { cache: CACHE[d.cache], 'read-only': d.readOnly, ...(d.readOnly ? {} : { discard: 'unmap' }) };
  const bus = machine === 'q35' ? await freePort(qmp, signal) : undefined;
  const undo: Array<() => Promise<unknown>> = [];
  try {
    await qmp.execute('blockdev-add', { driver: 'file', 'node-name': n.file, filename: d.path, ...common }, { signal });
    undo.unshift(() => qmp.execute('blockdev-del', { 'node-name': n.file }));
    await qmp.execute('blockdev-add', { driver: d.format, 'node-name': n.format, file: n.file, ...common }, { signal });
    undo.unshift(() => qmp.execute('blockdev-del', { 'node-name': n.format }));
    await qmp.execute('device_add', {
      driver: 'virtio-blk-pci', id: n.device, drive: n.format, 'write-cache': d.cache === 'writethrough' || d.cache === 'directsync' ? 'off' : 'on',
      ...(bus ? { bus } : {}),
    }, { signal });
  } catch (err) {
    for (const step of undo) await step().catch(() => undefined);
    throw err;
  }
}

/**
 * device_del of `deviceId`, then waits for the guest to release it (DEVICE_DELETED). A device on a bus
 * without hot-plug, or a guest that never lets go, is HOTPLUG_UNSUPPORTED naming `what` (e.g. "disk d1").
 */
export async function unplugDevice(qmp: QmpClient, deviceId: string, what: string, signal: AbortSignal, busHint?: string): Promise<void> {
  const deleted = qmp.once('DEVICE_DELETED', { signal, timeoutMs: UNPLUG_TIMEOUT_MS, filter: (e) => (e.data as { device?: string }).device === deviceId });
  deleted.catch(() => undefined);
  try {
    await qmp.execute('device_del', { id: deviceId }, { signal });
  } catch (err) {
    if (isPolyvisorError(err, 'QMP_FAILED') && /does not support hotplugging|not hotpluggable/i.test(err.message)) {
      throw new PolyvisorError('HOTPLUG_UNSUPPORTED', `${what} sits on a bus without hot-plug (it was there at boot)`, { cause: err, ...(busHint ? { hint: busHint } : {}) });
    }
    throw err;
  }
  try {
    await deleted;
  } catch (err) {
    throw new PolyvisorError('HOTPLUG_UNSUPPORTED', `the guest did not release ${what} within ${UNPLUG_TIMEOUT_MS / 1000} s`, {
      cause: err, hint: 'The guest may not support hot-unplug (no ACPI/PCIe hot-plug driver); stop the VM and retry, the request stays pending in QEMU.',
    });
  }
}

export async function hotUnplugDisk(qmp: QmpClient, name: string, signal: AbortSignal): Promise<void> {
  const n = diskNodes(name);
  await unplugDevice(qmp, n.device, `disk ${name}`, signal);
  await qmp.execute('blockdev-del', { 'node-name': n.format }, { signal });
  await qmp.execute('blockdev-del', { 'node-name': n.file }, { signal });
}

interface PciDevice { qdev_id?: string; pci_bridge?: { devices?: PciDevice[] } }

/** The first pv-hpN root port with nothing behind it (disks and NICs share them). */
export async function freePort(qmp: QmpClient, signal: AbortSignal): Promise<string> {
  const buses = await qmp.execute<Array<{ devices: PciDevice[] }>>('query-pci', undefined, { signal });
  const ports = new Map<string, number>();
  for (const b of buses) for (const dev of b.devices) if (dev.qdev_id?.startsWith('pv-hp')) ports.set(dev.qdev_id, dev.pci_bridge?.devices?.length ?? 0);
  for (let i = 0; i < HOTPLUG_PORTS; i++) if (ports.get(hotplugPortId(i)) === 0) return hotplugPortId(i);
  fail('HOTPLUG_UNSUPPORTED', ports.size === 0
    ? 'this VM was started without hot-plug ports; stop and start it once to get them'
    : `all ${HOTPLUG_PORTS} hot-plug ports are in use; stop the VM to attach more disks or NICs`);
}
