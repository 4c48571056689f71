/**
 * NIC hot-plug over QMP: netdev_add of the tap the host plumbed (ifname,
 * script=no, no vhost: TCG has no use for it) and device_add of the NIC with
 * the ids the argv builder gives (net-NAME, nic-NAME), into a free PCIe root
 * port on q35 or straight onto pc's PCI bus. Unplug: device_del, wait for
 * the guest to let go (DEVICE_DELETED), then netdev_del. Link: set_link.
 */
import type { QmpClient } from '../../qmp/index.js';
import type { HotplugNic } from '../nic-hotplug.js';
import { NIC_MODEL } from './argv-devices.js';
import { UNPLUG_TIMEOUT_MS, freePort, unplugDevice } from './hotplug.js';
import { netIds } from './names.js';


export async function hotplugNic(qmp: QmpClient, machine: 'q35' | 'pc', nic: HotplugNic, signal: AbortSignal): Promise<void> {
  const ids = netIds(nic.name);
  const driver = NIC_MODEL[nic.model];
  const bus = machine === 'q35' ? await freePort(qmp, signal) : undefined;
  await qmp.execute('netdev_add', { type: 'tap', id: ids.netdev, ifname: nic.tap, script: 'no', downscript: 'no', vhost: false }, { signal });
  let plugged = false;
  try {
    await qmp.execute('device_add', {
      driver, id: ids.device, netdev: ids.netdev, mac: nic.mac, romfile: '', ...(bus ? { bus } : {}),
      ...(nic.mtu !== undefined && nic.model === 'virtio' ? { host_mtu: nic.mtu } : {}),
    }, { signal });
    plugged = true;
    if (!nic.linkUp) await qmp.execute('set_link', { name: ids.device, up: false }, { signal });
  } catch (err) {
    // Nothing stays plugged: a device that went in comes out again (best effort), then the netdev closes the tap.
    if (plugged) await hotUnplugNic(qmp, nic.name, AbortSignal.timeout(UNPLUG_TIMEOUT_MS)).catch(() => undefined);
    else await qmp.execute('netdev_del', { id: ids.netdev }).catch(() => undefined);
    throw err;
  }
}

export async function hotUnplugNic(qmp: QmpClient, name: string, signal: AbortSignal): Promise<void> {
  const ids = netIds(name);
  await unplugDevice(qmp, ids.device, `NIC ${name}`, signal,
    'Stop the VM (`polyvisor vm stop NAME`) and remove the NIC then; NICs plugged in while it runs, or on q35 after a restart, can be unplugged live.');
  await qmp.execute('netdev_del', { id: ids.netdev }, { signal });
}

export async function setNicLink(qmp: QmpClient, name: string, up: boolean, signal: AbortSignal): Promise<void> {
  await qmp.execute('set_link', { name: netIds(name).device, up }, { signal });
}
