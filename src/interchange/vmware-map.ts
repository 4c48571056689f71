/**
 * What the VMware writers (OVF in ovftool's shape, VMX) share: the controller
 * a spec disk goes on, and the warnings for what no VMware VM holds. Pure.
 */
import type { DiskSpec, VmSpec } from '../spec/index.js';
import { commonLossy } from './export-lossy.js';
import type { Warnings } from './map-helpers.js';

export type VmwareBus = 'ide' | 'sata' | 'scsi';

/** CD-ROMs stay on SCSI, SATA or IDE when put there (else `cdromDefault`); virtio disks go on the SCSI controller (VMware has no virtio-blk). */
export function vmwareBus(d: DiskSpec, cdromDefault: 'ide' | 'sata'): VmwareBus {
  if (d.media === 'cdrom') return d.bus === 'scsi' || d.bus === 'sata' || d.bus === 'ide' ? d.bus : cdromDefault;
  return d.bus === 'virtio' ? 'scsi' : d.bus;
}

/** The common lossy parts plus what VMware lacks: threads, the pc chipset, a serial console without a backing. */
export function vmwareLossy(spec: VmSpec, w: Warnings, serialNote: string): void {
  commonLossy(spec, w, { description: true, topology: true });
  if (spec.cpu.threads > 1) w.add('cpu.threads', `${spec.cpu.threads} threads per core are not kept: ${spec.cpu.count} vCPUs in ${spec.cpu.sockets} sockets`);
  if (spec.serial.enabled) w.add('serial', serialNote);
  if (spec.machine.type === 'pc') w.add('machine.type', 'the pc machine type is not kept: VMware has one chipset');
}
