/**
 * QEMU argv for spec v2's balloon and devices: virtio-balloon (free page
 * reporting, or none), host PCI devices (vfio-pci by address, or an mdev by
 * its sysfs path), and the GPU (virtio-gpu, bochs, qxl, virtio-gpu-gl with an
 * EGL render node, vfio-pci). PURE: vendor:device selectors and mdev parents
 * are resolved against the host before (spec checkAgainstHost), and given here.
 */
import { PolyvisorError } from '../../shared/index.js';
import { isPciAddress, type ResolvedDevices, type VmSpec } from '../../spec/index.js';
import { balloonArgs, BALLOON_ID } from './balloon.js';
import { opts } from './qemu-opts.js';

/** First chassis number of passthrough root ports (the hot-plug ports use 1-4). */
const PASSTHROUGH_CHASSIS = 16;
export const GPU_ID = 'pv-gpu';
export const hostdevId = (i: number): string => `pv-hostdev${i}`;

/** An mdev's UUID, fixed per VM and slot: the VM id with its last 4 hex digits replaced by the slot (gpu: ff00). */
export function mdevUuid(vmId: string, slot: number | 'gpu'): string {
  const tail = slot === 'gpu' ? 'ff00' : slot.toString(16).padStart(4, '0');
  return `${vmId.slice(0, -4)}${tail}`;
}
export const mdevPath = (uuid: string): string => `/sys/bus/mdev/devices/${uuid}`;

export function balloonAndDeviceArgs(spec: VmSpec, vmId: string, resolved: ResolvedDevices | undefined): string[] {
  const b = spec.memoryLayout?.balloon;
  const balloon = b === undefined ? balloonArgs()
    : !b.enabled ? []
      : ['-device', opts('virtio-balloon-pci', [['id', BALLOON_ID], ['free-page-reporting', b.freePageReporting || undefined]])];
  return [...balloon, ...hostdevArgs(spec, vmId, resolved), ...gpuArgs(spec, vmId, resolved)];
}

function addressOf(spec: VmSpec, sel: string, resolved: string | undefined, field: string): string {
  const a = resolved ?? (isPciAddress(sel) ? sel : undefined);
  if (a === undefined) {
    throw new PolyvisorError('HOST_TOPOLOGY_UNFIT', `VM ${spec.name}: ${field} ${sel} was not matched to a PCI device of this host`);
  }
  return a;
}

/** vfio-pci of a whole device; on q35 behind its own root port (PCIe), on pc on the PCI bus. */
function vfio(spec: VmSpec, id: string, host: string, chassis: number): string[] {
  if (spec.machine.type !== 'q35') return ['-device', opts('vfio-pci', [['host', host], ['id', id]])];
  const port = `${id}-port`;
  return [
    '-device', opts('pcie-root-port', [['id', port], ['chassis', chassis]]),
    '-device', opts('vfio-pci', [['host', host], ['id', id], ['bus', port]]),
  ];
}

function hostdevArgs(spec: VmSpec, vmId: string, resolved: ResolvedDevices | undefined): string[] {
  return (spec.devices?.hostdev ?? []).flatMap((h, i) => h.mdevType !== undefined
    ? ['-device', opts('vfio-pci', [['sysfsdev', mdevPath(mdevUuid(vmId, i))], ['id', hostdevId(i)]])]
    : vfio(spec, hostdevId(i), addressOf(spec, h.pci, resolved?.hostdev[i], `devices.hostdev.${i}.pci`), PASSTHROUGH_CHASSIS + i));
}

function gpuArgs(spec: VmSpec, vmId: string, resolved: ResolvedDevices | undefined): string[] {
  const g = spec.devices?.gpu;
  if (!g || g.kind === 'none') return [];
  switch (g.kind) {
    case 'emulated': {
      // A second VGA-class card would clash with display.video's: qxl then goes in as the secondary (non-VGA) model.
      const vgaTaken = (spec.display.video ?? (spec.display.vnc ? 'std' : 'none')) !== 'none';
      const model = g.model === 'virtio-gpu' ? 'virtio-gpu-pci' : g.model === 'bochs' ? 'bochs-display' : vgaTaken ? 'qxl' : 'qxl-vga';
      return ['-device', opts(model, [['id', GPU_ID]])];
    }
    case 'paravirtual':
      return ['-device', opts('virtio-gpu-gl-pci', [['id', GPU_ID]]), '-display', opts('egl-headless', [['rendernode', g.renderNode]])];
    case 'passthrough':
      return vfio(spec, GPU_ID, addressOf(spec, g.pci, resolved?.gpu, 'devices.gpu.pci'), PASSTHROUGH_CHASSIS + 15);
    case 'mediated':
      return ['-device', opts('vfio-pci', [['sysfsdev', mdevPath(mdevUuid(vmId, 'gpu'))], ['id', GPU_ID], ['display', 'off']])];
  }
}
