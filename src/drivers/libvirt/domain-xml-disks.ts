/**
 * Spec disks → libvirt <disk> elements and the controllers they need, placed
 * the way the native QEMU driver places them (src/drivers/qemu/argv-disks.ts):
 * virtio-blk, SATA on q35's AHCI (IDE on pc's PIIX), SCSI behind one
 * virtio-scsi controller; CD-ROMs on ATA unless their bus is scsi. Every disk
 * carries its spec name as a user alias (`ua-NAME`). Pure.
 */
import { PolyvisorError } from '../../shared/index.js';
import { CLOUD_INIT_DISK, type DiskSpec, type VmSpec } from '../../spec/index.js';
import { el, type XmlNode } from './domain-xml-node.js';

/** The libvirt bus a spec disk lands on. */
export type XmlDiskBus = 'virtio' | 'sata' | 'scsi' | 'ide';

/** q35's ICH9 AHCI has six ports; pc's PIIX has two buses of two units (as in the native driver). */
const SATA_PORTS = 6;
const PIIX_UNITS = 4;

const USER_ALIAS = 'ua-';

/**
 * A device's user alias from its spec name. libvirt keeps user aliases of
 * `ua-` + [A-Za-z0-9_-] only (it silently drops one with a "."), so "_" is
 * written "__" and "." "_0": mgmt.1 → ua-mgmt_01, my_disk → ua-my__disk.
 */
export function aliasOf(name: string): string {
  return USER_ALIAS + name.replace(/_/g, '__').replace(/\./g, '_0');
}

/** The name in a user alias: decoded when Polyvisor wrote the domain (`ours`), taken as it is otherwise. */
export function nameOfAlias(alias: string | undefined, ours: boolean): string | undefined {
  if (alias === undefined || !alias.startsWith(USER_ALIAS)) return undefined;
  const raw = alias.slice(USER_ALIAS.length);
  if (!ours || !/^([^_]|__|_0)*$/.test(raw)) return raw;
  return raw.replace(/_(_|0)/g, (_m, c: string) => (c === '_' ? '_' : '.'));
}

/** libvirt's disk naming: 0 → a, 25 → z, 26 → aa. */
export function diskLetters(index: number): string {
  let n = index;
  let s = '';
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return s;
}

export function xmlBus(spec: VmSpec, d: DiskSpec): XmlDiskBus {
  const ata = d.bus === 'sata' || d.bus === 'ide' || (d.media === 'cdrom' && d.bus !== 'scsi');
  if (ata) return spec.machine.type === 'q35' ? 'sata' : 'ide';
  return d.bus;
}

/** The cloud-init seed CD-ROM as the native driver attaches it: virtio-scsi on q35, IDE on pc. */
export function seedDisk(spec: VmSpec, iso: string): DiskSpec {
  return {
    name: CLOUD_INIT_DISK, path: iso, format: 'raw', media: 'cdrom',
    bus: spec.machine.type === 'q35' ? 'scsi' : 'sata', readOnly: true, cache: 'writeback',
  };
}

export interface DiskXmlInput {
  spec: VmSpec;
  disks: DiskSpec[];
  paths: Record<string, string>;
  formats: Record<string, string>;
  /** libvirt boot order per disk name (1-based). */
  bootOrder: Map<string, number>;
}

export function diskElements(input: DiskXmlInput): XmlNode[] {
  const { spec, disks } = input;
  const count = { vd: 0, sd: 0, hd: 0, sata: 0, scsi: 0 };
  const out: XmlNode[] = [];
  disks.forEach((d, i) => {
    const file = input.paths[d.name] ?? d.path;
    if (file === undefined) throw new Error(`domainXml: no image path for disk ${d.name}`);
    const bus = xmlBus(spec, d);
    const cdrom = d.media === 'cdrom';
    if (d.readOnly && !cdrom && (bus === 'sata' || bus === 'ide')) {
      throw invalid(d, i, 'readOnly', 'a SATA/IDE hard disk cannot be read-only; use bus virtio or scsi');
    }
    // issue 23: the passphrase would have to become a libvirt secret; refused rather than silently unencrypted
    if (d.encrypt === true) throw invalid(d, i, 'encrypt', 'encrypted disks run on the qemu driver only; libvirt domain XML does not carry them yet');
    let target: XmlNode;
    let address: XmlNode | undefined;
    if (bus === 'virtio') {
      target = el('target', { dev: `vd${diskLetters(count.vd++)}`, bus });
    } else if (bus === 'scsi') {
      target = el('target', { dev: `sd${diskLetters(count.sd++)}`, bus });
      address = driveAddress(0, 0, count.scsi++);
    } else if (bus === 'sata') {
      if (count.sata >= SATA_PORTS) throw tooMany(d, i, `q35 has ${SATA_PORTS} SATA ports`);
      target = el('target', { dev: `sd${diskLetters(count.sd++)}`, bus });
      address = driveAddress(0, 0, count.sata++);
    } else {
      if (count.hd >= PIIX_UNITS) throw tooMany(d, i, `machine pc has ${PIIX_UNITS} IDE units`);
      const unit = count.hd++;
      target = el('target', { dev: `hd${diskLetters(unit)}`, bus });
      address = driveAddress(Math.floor(unit / 2), unit % 2, 0, true);
    }
    const format = input.formats[d.name] ?? (cdrom ? 'raw' : d.format);
    if (format !== 'qcow2' && format !== 'raw') throw invalid(d, i, 'format', `image format "${format}" is not qcow2 or raw`);
    const ro = d.readOnly || cdrom;
    const block = file.startsWith('/dev/');
    const order = input.bootOrder.get(d.name);
    out.push(el('disk', { type: block ? 'block' : 'file', device: cdrom ? 'cdrom' : 'disk' }, [
      el('driver', { name: 'qemu', type: format, cache: d.cache, discard: ro ? undefined : 'unmap' }),
      el('source', block ? { dev: file } : { file }),
      target,
      ro && el('readonly'),
      order !== undefined && el('boot', { order }),
      el('alias', { name: aliasOf(d.name) }),
      address,
    ]));
  });
  return out;
}

/** The spec's SCSI controllers as libvirt names them. */
const LIBVIRT_SCSI_MODEL: Record<NonNullable<VmSpec['scsiController']>, string> = {
  'virtio-scsi': 'virtio-scsi', lsilogic: 'lsilogic', lsisas1068: 'lsisas1068', megasas: 'lsisas1078', pvscsi: 'vmpvscsi',
};

/** Controllers the disks need beyond libvirt's implicit ones: one virtio-scsi (else libvirt picks an LSI on pc). */
export function diskControllers(spec: VmSpec, disks: DiskSpec[]): XmlNode[] {
  return disks.some((d) => xmlBus(spec, d) === 'scsi') ? [el('controller', { type: 'scsi', index: 0, model: LIBVIRT_SCSI_MODEL[spec.scsiController ?? 'virtio-scsi'] })] : [];
}

function driveAddress(bus: number, unit: number, scsiUnit: number, ide = false): XmlNode {
  return ide
    ? el('address', { type: 'drive', controller: 0, bus, target: 0, unit })
    : el('address', { type: 'drive', controller: 0, bus: 0, target: 0, unit: scsiUnit });
}

function invalid(d: DiskSpec, index: number, field: string, message: string): PolyvisorError {
  return new PolyvisorError('SPEC_INVALID', `disk ${d.name}: ${message}`, { details: [{ field: `disks.${index}.${field}`, message }] });
}

function tooMany(d: DiskSpec, index: number, why: string): PolyvisorError {
  return invalid(d, index, 'bus', `does not fit: ${why} (CD-ROMs count too); put some disks on virtio or scsi`);
}
