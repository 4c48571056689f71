/**
 * NIC hot-plug over QMP: netdev_add of the tap the host plumbed (ifname,
 * script=no, no vhost: TCG has no use for it) and device_add of the NIC with
 * the ids the argv builder gives (net-NAME, nic-NAME), into a free PCIe root
 * port on q35 or straight onto pc's PCI bus. Unplug: device_del, wait for
 * the guest to let go (DEVICE_DELETED), then netdev_del. Link: set_link.
 */
import type { QmpClient } from '../../qmp/index.js';
import { PolyvisorError, isPolyvisorError } from '../../shared/index.js';
import type { HotplugNic } from '../nic-hotplug.js';
import { NIC_MODEL } from './argv-devices.js';
import { UNPLUG_TIMEOUT_MS, freePort } from './hotplug.js';
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
  const deleted = qmp.once('DEVICE_DELETED', { signal, timeoutMs: UNPLUG_TIMEOUT_MS, filter: (e) => (e.data as { device?: string }).device === ids.device });
  deleted.catch(() => undefined);
  try {
    await qmp.execute('device_del', { id: ids.device }, { signal });
  } catch (err) {
    if (isPolyvisorError(err, 'QMP_FAILED') && /does not support hotplugging|not hotpluggable/i.test(err.message)) {
      throw new PolyvisorError('HOTPLUG_UNSUPPORTED', `NIC ${name} sits on a bus without hot-plug (it was there at boot)`, {
        cause: err, hint: 'Stop the VM (`polyvisor vm stop NAME`) and remove the NIC then; NICs plugged in while it runs, or on q35 after a restart, can be unplugged live.',
      });
    }
    throw err;
  }
  try {
    await deleted;
  } catch (err) {
    throw new PolyvisorError('HOTPLUG_UNSUPPORTED', `the guest did not release NIC ${name} within ${UNPLUG_TIMEOUT_MS / 1000} s`, {
      cause: err, hint: 'The guest may not support hot-unplug (no ACPI/PCIe hot-plug driver); stop the VM and retry, the request stays pending in QEMU.',
    });
  }
  await qmp.execute('netdev_del', { id: ids.netdev }, { signal });
}

export async function setNicLink(qmp: QmpClient, name: string, up: boolean, signal: AbortSignal): Promise<void> {
  await qmp.execute('set_link', { name: netIds(name).device, up }, { signal });
}
