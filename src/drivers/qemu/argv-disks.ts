/**
 * Disks as `-blockdev` node pairs (protocol node + format node) and guest
 * devices: virtio-blk-pci, SATA or IDE (both on q35's AHCI, which has no
 * IDE; both on pc's PIIX IDE), and SCSI behind one controller (spec
 * scsiController: virtio-scsi by default, or an emulated LSI, MegaRAID or
 * PVSCSI for imported guests). CD-ROMs become ide-cd / scsi-cd. An
 * encrypted disk (LUKS inside qcow2) gets a `-object secret` read from the
 * file LaunchPlan.diskSecrets names, and its format node points at it.
 */
import { PolyvisorError } from '../../shared/index.js';
import type { DiskSpec, VmSpec } from '../../spec/index.js';
import { diskNodes } from './names.js';
import { opts } from './qemu-opts.js';

/**
 * Cache modes as -blockdev options (on both nodes) plus the device's
 * write-cache property, the way `-drive cache=` expands them.
 */
const CACHE: Record<DiskSpec['cache'], { direct: boolean; noFlush: boolean; writeCache: boolean }> = {
  writeback: { direct: false, noFlush: false, writeCache: true },
  none: { direct: true, noFlush: false, writeCache: true },
  writethrough: { direct: false, noFlush: false, writeCache: false },
  directsync: { direct: true, noFlush: false, writeCache: false },
  unsafe: { direct: false, noFlush: true, writeCache: true },
};

/** q35's ICH9 AHCI has six ports (buses ide.0-ide.5); pc's PIIX has two buses of two units. */
const SATA_PORTS = 6;
const PIIX_UNITS = 4;

/** SCSI controllers → QEMU device and how many targets it has (the LSI 53C895A keeps id 7 for itself). */
const SCSI_DEVICE: Record<NonNullable<VmSpec['scsiController']>, { device: string; targets: number }> = {
  'virtio-scsi': { device: 'virtio-scsi-pci', targets: 256 },
  lsilogic: { device: 'lsi53c895a', targets: 7 },
  lsisas1068: { device: 'mptsas1068', targets: 8 },
  megasas: { device: 'megasas-gen2', targets: 64 },
  pvscsi: { device: 'pvscsi', targets: 64 },
};

export function diskArgs(spec: VmSpec, diskPaths: Record<string, string>, bootIndex: Map<string, number>, secrets: Record<string, string> = {}, backingFiles: Record<string, string[]> = {}): string[] {
  const args: string[] = [];
  let ataIndex = 0;
  let scsi = 0;
  const needScsi = spec.disks.some((d) => d.bus === 'scsi');
  const controller = SCSI_DEVICE[spec.scsiController ?? 'virtio-scsi'];
  if (needScsi) args.push('-device', opts(controller.device, [['id', 'scsi0']]));
  for (const d of spec.disks) {
    const file = diskPaths[d.name] ?? d.path;
    if (file === undefined) throw new Error(`no image path for disk ${d.name}`);
    const n = diskNodes(d.name);
    const cdrom = d.media === 'cdrom';
    const ro = d.readOnly || cdrom;
    const ata = d.bus === 'sata' || d.bus === 'ide' || (cdrom && d.bus !== 'scsi');
    if (ro && !cdrom && ata) throw new PolyvisorError('SPEC_INVALID', `disk ${d.name}: QEMU cannot make a SATA/IDE hard disk read-only; use bus virtio or scsi`);
    args.push(...backendArgs(d, file, secrets[d.name], backingFiles[d.name] ?? []));
    const common = [['drive', n.format], ['id', n.device], ['bootindex', bootIndex.get(d.name)]] as const;
    const wc = cdrom ? undefined : CACHE[d.cache].writeCache;
    if (d.bus === 'scsi') {
      if (scsi >= controller.targets) throw tooMany(d, `the ${spec.scsiController ?? 'virtio-scsi'} controller has ${controller.targets} targets`);
      args.push('-device', opts(cdrom ? 'scsi-cd' : 'scsi-hd', [['bus', 'scsi0.0'], ['channel', 0], ['scsi-id', scsi++], ['lun', 0], ...common, ['write-cache', wc]]));
    } else if (ata) {
      args.push('-device', opts(cdrom ? 'ide-cd' : 'ide-hd', [...ataBus(spec, d, ataIndex++), ...common, ['write-cache', wc]]));
    } else {
      args.push('-device', opts('virtio-blk-pci', [...common, ['write-cache', wc]]));
    }
  }
  return args;
}

/** The block graph under one disk: a protocol node and a format node. */
function backendArgs(d: DiskSpec, file: string, secretFile: string | undefined, backing: readonly string[]): string[] {
  const n = diskNodes(d.name);
  if (d.encrypt === true && secretFile === undefined) throw new PolyvisorError('DISK_KEY_MISSING', `disk ${d.name} is encrypted and its passphrase was not handed to QEMU`);
  // Every image of an encrypted disk's chain (external snapshots) is under the disk's passphrase; -blockdev wants each
  // backing layer spelled out (driver, file) to take its key: backing.driver=qcow2,…,backing.encrypt.key-secret=…, and so on down.
  const layers = (d.encrypt === true ? backing : []).flatMap((f, i) => {
    const p = 'backing.'.repeat(i + 1);
    return [[`${p}driver`, 'qcow2'], [`${p}file.driver`, 'file'], [`${p}file.filename`, f], [`${p}encrypt.format`, 'luks'], [`${p}encrypt.key-secret`, n.secret]] as const;
  });
  const encrypt = d.encrypt === true ? [['encrypt.format', 'luks'], ['encrypt.key-secret', n.secret], ...layers] as const : [];
  const cdrom = d.media === 'cdrom';
  const ro = d.readOnly || cdrom;
  const format = cdrom ? 'raw' : d.format; // ISO images are raw whatever the spec's default format says
  const c = CACHE[d.cache];
  const cache = [['cache.direct', c.direct], ['cache.no-flush', c.noFlush]] as const;
  const protocol = file.startsWith('/dev/') ? (cdrom ? 'host_cdrom' : 'host_device') : 'file';
  const discard = ro ? undefined : 'unmap';
  return [
    ...(d.encrypt === true ? ['-object', opts('secret', [['id', n.secret], ['file', secretFile]])] : []),
    '-blockdev', opts(undefined, [['driver', protocol], ['node-name', n.file], ['filename', file], ...cache, ['read-only', ro], ['discard', discard]]),
    '-blockdev', opts(undefined, [['driver', format], ['node-name', n.format], ['file', n.file], ...cache, ['read-only', ro], ['discard', discard], ...encrypt]),
  ];
}

function ataBus(spec: VmSpec, d: DiskSpec, index: number): Array<readonly [string, string | number]> {
  if (spec.machine.type === 'q35') {
    if (index >= SATA_PORTS) throw tooMany(d, `q35 has ${SATA_PORTS} SATA ports`);
    return [['bus', `ide.${index}`]];
  }
  if (index >= PIIX_UNITS) throw tooMany(d, `machine pc has ${PIIX_UNITS} IDE units`);
  return [['bus', `ide.${Math.floor(index / 2)}`], ['unit', index % 2]];
}

function tooMany(d: DiskSpec, why: string): PolyvisorError {
  return new PolyvisorError('SPEC_INVALID', `disk ${d.name} does not fit: ${why} (CD-ROMs count too); put some disks on virtio or scsi`);
}
