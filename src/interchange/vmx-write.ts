/**
 * VmSpec → a VMware `.vmx` (virtualHW.version 14: Workstation 15+, ESXi
 * 6.7+) beside monolithicSparse VMDKs: CPUs and cores per socket, memsize,
 * firmware and secure boot, guestOS, SCSI (pvscsi for virtio), SATA and IDE
 * disks and CD-ROMs, ethernetN NICs (NAT), the SVGA card. Devices VMware
 * lacks become their nearest VMware device with a warning. Pure;
 * vmx-read.ts reads the output back.
 */
import type { VmSpec } from '../spec/index.js';
import { Warnings } from './map-helpers.js';
import { escapeVmx } from './vmx-text.js';
import type { ExportInput, ExportResult } from './types.js';
import { vmwareBus, vmwareLossy, type VmwareBus } from './vmware-map.js';

const NIC: Record<VmSpec['networks'][number]['model'], string> = { e1000: 'e1000', e1000e: 'e1000e', vmxnet3: 'vmxnet3', virtio: 'vmxnet3', rtl8139: 'e1000' };
const SCSI: Record<NonNullable<VmSpec['scsiController']>, string> = { 'virtio-scsi': 'pvscsi', pvscsi: 'pvscsi', lsilogic: 'lsilogic', lsisas1068: 'lsisas1068', megasas: 'lsisas1068' };
const GUEST = { linux: 'otherlinux-64', windows: 'windows9-64', other: 'other-64' } as const;
/** VMware accepts static MACs only in its own range 00:50:56:00:00:00-00:50:56:3f:ff:ff. */
const VMWARE_STATIC_MAC = /^00:50:56:[0-3][0-9a-f]:/;

export function writeVmx(input: ExportInput): ExportResult {
  const { spec } = input;
  const w = new Warnings();
  vmwareLossy(spec, w, 'the serial console is not exported');
  const lines: Array<[string, string | number]> = [
    ['.encoding', 'UTF-8'],
    ['config.version', 8],
    ['virtualHW.version', 14],
    ['displayName', spec.name],
    ['guestOS', spec.os?.variant !== undefined && /^[a-z0-9-]+$/.test(spec.os.variant) ? spec.os.variant : GUEST[spec.os?.type ?? 'other']],
    ['numvcpus', spec.cpu.count],
  ];
  if (spec.cpu.sockets > 1) lines.push(['cpuid.coresPerSocket', spec.cpu.cores * spec.cpu.threads]);
  const mib = Math.ceil(spec.memory / 1024 ** 2 / 4) * 4;
  if (mib * 1024 ** 2 !== spec.memory) w.add('memory', `memory ${spec.memory} bytes becomes ${mib} MiB (VMware wants multiples of 4 MiB)`);
  lines.push(['memsize', mib]);
  if (spec.boot.firmware === 'uefi') lines.push(['firmware', 'efi']);
  if (spec.boot.secureBoot === true) lines.push(['uefi.secureBoot.enabled', 'TRUE']);
  if (spec.description !== '') lines.push(['annotation', spec.description]);

  const files = new Map(input.disks.map((d) => [d.name, d.file]));
  const next: Record<VmwareBus, number> = { scsi: 0, sata: 0, ide: 0 };
  const present = new Set<VmwareBus>();
  const devices: Array<[string, string | number]> = [];
  if (spec.disks.some((d) => vmwareBus(d, 'sata') === 'scsi' && d.media === 'disk')) {
    const ctl = spec.scsiController ?? 'virtio-scsi';
    if (ctl === 'virtio-scsi') w.add('scsiController', 'the virtio-scsi controller becomes VMware Paravirtual SCSI (pvscsi)');
    if (ctl === 'megasas') w.add('scsiController', 'the MegaRAID controller becomes an LSI Logic SAS controller');
  }
  spec.disks.forEach((d, i) => {
    const bus = vmwareBus(d, 'sata');
    if (d.media === 'disk' && d.bus === 'virtio') w.add(`disks[${i}].bus`, `the virtio disk ${d.name} goes on the SCSI controller (VMware has no virtio-blk)`);
    if (d.bootIndex !== undefined) w.add(`disks[${i}].bootIndex`, 'the boot index is not kept');
    const limit = bus === 'ide' ? 4 : bus === 'sata' ? 30 : 15;
    if (next[bus] >= limit) {
      w.add(`disks[${i}]`, `${d.name} does not fit on the ${bus} controller: it is not exported`);
      return;
    }
    let unit = next[bus]++;
    if (bus === 'scsi' && unit >= 7) unit++; // unit 7 is the controller's own
    const slot = bus === 'ide' ? `ide${Math.floor(unit / 2)}:${unit % 2}` : `${bus}0:${unit}`;
    present.add(bus);
    const file = files.get(d.name);
    if (d.media === 'cdrom') {
      devices.push([`${slot}.present`, 'TRUE'], [`${slot}.deviceType`, 'cdrom-image'], [`${slot}.fileName`, file ?? ''], [`${slot}.startConnected`, file === undefined ? 'FALSE' : 'TRUE']);
      if (file === undefined) w.add(`disks[${i}]`, `the ISO of the CD-ROM ${d.name} is not exported: the drive is empty`);
      return;
    }
    if (file === undefined) {
      w.add(`disks[${i}]`, `the disk ${d.name} has no exported file: it is left out`);
      return;
    }
    devices.push([`${slot}.present`, 'TRUE'], [`${slot}.fileName`, file]);
    if (d.readOnly) w.add(`disks[${i}].readOnly`, 'a read-only disk is exported writable');
  });
  if (present.has('scsi')) lines.push(['scsi0.present', 'TRUE'], ['scsi0.virtualDev', SCSI[spec.scsiController ?? 'virtio-scsi']]);
  if (present.has('sata')) lines.push(['sata0.present', 'TRUE']);
  lines.push(...devices);
  spec.networks.forEach((n, i) => {
    const p = `ethernet${i}`;
    if (n.model === 'virtio') w.add(`networks[${i}].model`, 'the virtio NIC becomes a VMXNET3 (VMware has no virtio-net)');
    if (n.model === 'rtl8139') w.add(`networks[${i}].model`, 'the RTL8139 NIC becomes an E1000');
    lines.push([`${p}.present`, 'TRUE'], [`${p}.virtualDev`, NIC[n.model]], [`${p}.connectionType`, 'nat']);
    if (n.mac !== undefined && VMWARE_STATIC_MAC.test(n.mac)) lines.push([`${p}.addressType`, 'static'], [`${p}.address`, n.mac]);
    else {
      lines.push([`${p}.addressType`, 'generated']);
      if (n.mac !== undefined) w.add(`networks[${i}].mac`, `the MAC ${n.mac} is not kept: VMware takes static MACs only from 00:50:56:00:00:00-00:50:56:3f:ff:ff and generates one`);
    }
  });
  const video = spec.display.video;
  if (video !== undefined && video !== 'vmware' && video !== 'none') w.add('display.video', `the ${video} video card becomes VMware's SVGA`);
  lines.push(['svga.present', video === 'none' ? 'FALSE' : 'TRUE']);
  const text = lines.map(([k, v]) => `${k} = "${escapeVmx(String(v))}"`).join('\n') + '\n';
  return { files: [{ name: `${spec.name}.vmx`, content: text }], warnings: w.list };
}
