/**
 * The driver table of this daemon: the native QEMU engine (the `local`
 * endpoint), the drivers for remote endpoints, and the hypervisors reached
 * only through their file formats. The only place that names them.
 */
import { DriverRegistry, FILE_FORMAT_DRIVERS } from '../drivers/index.js';
import { QEMU_CAPABILITIES, QEMU_DRIVER_NAME } from '../drivers/qemu/index.js';
import { createProxmoxDriver } from '../drivers/proxmox/index.js';
import { createHypervDriver } from '../drivers/hyperv/index.js';
import { createLibvirtDriver } from '../drivers/libvirt/index.js';
import { createVsphereDriver } from '../drivers/vsphere/index.js';
import { createXcpngDriver } from '../drivers/xcpng/index.js';

/** `libvirtDiskRoot`: where disks of VMs moved to a libvirt endpoint go (config libvirtDiskRoot). */
export function buildDriverRegistry(o: { libvirtDiskRoot?: string; accel?: 'auto' | 'kvm' | 'tcg' } = {}): DriverRegistry {
  const reg = new DriverRegistry();
  reg.describe({ name: QEMU_DRIVER_NAME, title: 'QEMU run by this daemon (the `local` endpoint): KVM where the host has it, else TCG', live: true, urlExample: '(built in: endpoint "local")', capabilities: QEMU_CAPABILITIES });
  // The daemon's accelerator choice holds for the domains it defines too (nested KVM can hang: tcg means domain type qemu).
  const domainType = o.accel === 'tcg' ? 'qemu' : o.accel === 'kvm' ? 'kvm' : 'probe';
  reg.add(createLibvirtDriver({ domainType, ...(o.libvirtDiskRoot ? { diskRoot: o.libvirtDiskRoot } : {}) }));
  reg.add(createVsphereDriver());
  reg.add(createProxmoxDriver());
  reg.add(createHypervDriver());
  reg.add(createXcpngDriver());
  for (const row of FILE_FORMAT_DRIVERS) reg.describe(row);
  return reg;
}
