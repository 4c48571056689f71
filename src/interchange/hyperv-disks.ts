/**
 * Hyper-V drives → spec disks, shared by the configuration XML reader and the
 * PowerShell script reader: VHD/VHDX hard disks on IDE (generation 1) or SCSI
 * controllers, DVD drives with or without an ISO. Pure.
 */
import type { VmSpecInput } from '../spec/index.js';
import { baseName, diskFormatOfFile, type Warnings } from './map-helpers.js';
import type { ImportedDisk, ReadOptions } from './types.js';

export interface HypervDrive {
  kind: 'hdd' | 'dvd';
  controller: 'IDE' | 'SCSI';
  controllerNumber: number;
  location: number;
  /** As Hyper-V wrote it (a Windows path, or relative to the file read); '' for an empty DVD drive. */
  path: string;
  source: string;
}

type SpecDisk = NonNullable<VmSpecInput['disks']>[number];

/** Windows paths keep only their file name (the disk is looked up beside the file read); relative paths stay. */
export function hypervFile(path: string): string {
  if (/^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\')) return baseName(path);
  return path.replace(/\\/g, '/').replace(/^\.\//, '');
}

/** Drives in controller order → spec disks (named disk0…, cdrom0…) and the files the import converts. */
export function mapHypervDrives(drives: HypervDrive[], o: ReadOptions, w: Warnings): { disks: SpecDisk[]; files: ImportedDisk[] } {
  const sorted = [...drives].sort((a, b) => a.controller.localeCompare(b.controller) || a.controllerNumber - b.controllerNumber || a.location - b.location);
  const disks: SpecDisk[] = [];
  const files: ImportedDisk[] = [];
  let hdd = 0;
  let dvd = 0;
  for (const d of sorted) {
    if (d.kind === 'dvd') {
      if (d.path === '') {
        w.add(d.source, 'an empty DVD drive is not kept (the spec has CD-ROMs with an ISO only)');
        continue;
      }
      const name = `cdrom${dvd++}`;
      const file = hypervFile(d.path);
      disks.push({ name, path: file, media: 'cdrom', format: 'raw', bus: o.virtio === true ? 'sata' : d.controller === 'IDE' ? 'ide' : 'sata', readOnly: true });
      files.push({ name, file, format: 'raw' });
      continue;
    }
    const name = `disk${hdd++}`;
    const file = hypervFile(d.path);
    const format = diskFormatOfFile(file);
    if (format !== 'vhdx' && format !== 'vpc') w.add(d.source, `the disk ${d.path} is not a VHD or VHDX file; it is read as ${format}`);
    let bus: SpecDisk['bus'];
    if (o.virtio === true) bus = 'virtio';
    else if (d.controller === 'IDE') bus = 'ide';
    else {
      bus = 'scsi';
      if (hdd === 1) w.add(d.source, 'Hyper-V\'s synthetic SCSI controller becomes virtio-scsi: the guest needs virtio-scsi drivers (Linux has them; Windows needs virtio-win)');
    }
    disks.push({ name, path: file, format: 'qcow2', bus });
    files.push({ name, file, format });
  }
  return { disks, files };
}
