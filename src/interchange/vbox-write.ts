/**
 * VmSpec → a VirtualBox machine file (`NAME.vbox`, settings 1.16 as
 * VirtualBox 6.1 writes them; 7.x upgrades it on registration) beside VDI
 * disks: MediaRegistry, CPU count, RAMSize, firmware, boot order, display
 * controller, NAT adapters with their MACs, SATA/IDE/SCSI storage
 * controllers. UUIDs derive from the VM's and disks' names, so the same
 * spec gives the same file. Pure; vbox-read.ts reads the output back.
 */
import { createHash } from 'node:crypto';
import type { DiskSpec, VmSpec } from '../spec/index.js';
import { commonLossy } from './export-lossy.js';
import { Warnings } from './map-helpers.js';
import type { DiskFileFormat, ExportInput, ExportResult } from './types.js';
import { xel, xmlDocument, xtext, type XmlOut } from './xml-write.js';

const NIC: Record<VmSpec['networks'][number]['model'], string> = { e1000: '82540EM', e1000e: '82540EM', vmxnet3: 'virtio', virtio: 'virtio', rtl8139: '82540EM' };
const SCSI: Record<NonNullable<VmSpec['scsiController']>, string> = { 'virtio-scsi': 'VirtioSCSI', lsilogic: 'LsiLogic', lsisas1068: 'LsiLogicSas', megasas: 'LsiLogicSas', pvscsi: 'LsiLogic' };
const VIDEO: Record<NonNullable<VmSpec['display']['video']>, string> = { std: 'VBoxVGA', vmware: 'VMSVGA', virtio: 'VBoxSVGA', qxl: 'VBoxVGA', cirrus: 'VBoxVGA', none: 'Null' };
const FORMAT: Record<DiskFileFormat, string> = { vdi: 'VDI', vmdk: 'VMDK', vpc: 'VHD', vhdx: 'VHDX', qcow2: 'QCOW', raw: 'RAW' };
const GUEST = { linux: 'Linux_64', windows: 'Windows10_64', other: 'Other_64' } as const;

/** A UUID (version 5 layout) from a name: the same VM and disk names give the same UUIDs. */
function nameUuid(...parts: string[]): string {
  const h = createHash('sha1').update(`polyvisor:${parts.join('/')}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `{${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}}`;
}

/** A MAC in VirtualBox's range (08:00:27) from the VM's and NIC's names, for NICs without one. */
function nameMac(vm: string, nic: string): string {
  return `080027${createHash('sha1').update(`${vm}/${nic}`).digest('hex').slice(0, 6)}`.toUpperCase();
}

type Bus = 'SATA' | 'IDE' | 'SCSI';

function vboxBus(d: DiskSpec): Bus {
  if (d.bus === 'ide') return 'IDE';
  if (d.bus === 'scsi') return 'SCSI';
  return 'SATA';
}

export function writeVbox(input: ExportInput): ExportResult {
  const { spec } = input;
  const w = new Warnings();
  commonLossy(spec, w, { description: true });
  if (spec.serial.enabled) w.add('serial', 'the serial console is not exported');
  if (spec.boot.secureBoot === true) w.add('boot.secureBoot', 'secure boot is not kept: VirtualBox keeps it in the VM\'s NVRAM (enable it with VBoxManage modifynvram NAME enrollmssignatures and enablesecureboot)');
  const files = new Map(input.disks.map((d) => [d.name, d]));
  const hardDisks: XmlOut[] = [];
  const dvds: XmlOut[] = [];
  const attached: Record<Bus, XmlOut[]> = { SATA: [], IDE: [], SCSI: [] };
  spec.disks.forEach((d, i) => {
    const bus = vboxBus(d);
    if (d.media === 'disk' && d.bus === 'virtio') w.add(`disks[${i}].bus`, `the virtio disk ${d.name} goes on the SATA controller (VirtualBox has no virtio-blk)`);
    if (d.bootIndex !== undefined) w.add(`disks[${i}].bootIndex`, 'the boot index is not kept: VirtualBox boots disks, then DVDs');
    const n = attached[bus].length;
    const limit = bus === 'IDE' ? 4 : bus === 'SATA' ? 30 : 16;
    if (n >= limit) {
      w.add(`disks[${i}]`, `${d.name} does not fit on the ${bus} controller: it is not exported`);
      return;
    }
    const place: Array<readonly [string, number]> = bus === 'IDE' ? [['port', Math.floor(n / 2)], ['device', n % 2]] : [['port', n], ['device', 0]];
    const exp = files.get(d.name);
    const uuid = nameUuid(spec.name, d.name);
    if (d.media === 'cdrom') {
      if (exp) dvds.push(xel('Image', [['uuid', uuid], ['location', exp.file]]));
      else w.add(`disks[${i}]`, `the ISO of the CD-ROM ${d.name} is not exported: the drive is empty`);
      attached[bus].push(xel('AttachedDevice', [['passthrough', 'false'], ['type', 'DVD'], ['hotpluggable', 'false'], ...place], [exp && xel('Image', [['uuid', uuid]])]));
      return;
    }
    if (!exp) {
      w.add(`disks[${i}]`, `the disk ${d.name} has no exported file: it is left out`);
      return;
    }
    if (d.readOnly) w.add(`disks[${i}].readOnly`, 'a read-only disk is exported writable (as type Normal)');
    hardDisks.push(xel('HardDisk', [['uuid', uuid], ['location', exp.file], ['format', FORMAT[exp.format]], ['type', 'Normal']]));
    attached[bus].push(xel('AttachedDevice', [['type', 'HardDisk'], ['hotpluggable', 'false'], ...place], [xel('Image', [['uuid', uuid]])]));
  });
  const scsi = spec.scsiController ?? 'virtio-scsi';
  if (attached.SCSI.length > 0 && (scsi === 'pvscsi' || scsi === 'megasas')) w.add('scsiController', `the ${scsi} controller becomes VirtualBox's ${SCSI[scsi]}`);
  const controllers = ([['SATA', 'AHCI'], ['IDE', 'PIIX4'], ['SCSI', SCSI[scsi]]] as const)
    .filter(([bus]) => attached[bus].length > 0)
    .map(([bus, type]) => xel('StorageController', [['name', bus], ['type', type], ...(bus === 'IDE' ? [] : [['PortCount', Math.max(1, attached[bus].length)] as const]), ['useHostIOCache', bus === 'IDE' ? 'true' : 'false'], ['Bootable', 'true']], attached[bus]));
  const adapters = spec.networks.map((n, i) => {
    if (n.model !== 'e1000' && n.model !== 'virtio') w.add(`networks[${i}].model`, `the ${n.model} NIC becomes VirtualBox's ${NIC[n.model] === 'virtio' ? 'virtio-net' : 'Intel PRO/1000 MT Desktop (82540EM)'}`);
    return xel('Adapter', [['slot', i], ['enabled', 'true'], ['MACAddress', n.mac === undefined ? nameMac(spec.name, n.name) : n.mac.replace(/:/g, '').toUpperCase()], ['type', NIC[n.model]]], [xel('NAT')]);
  });
  const video = spec.display.video;
  if (video !== undefined && (video === 'virtio' || video === 'qxl' || video === 'cirrus')) w.add('display.video', `the ${video} video card becomes VirtualBox's ${VIDEO[video]}`);
  const order = [...spec.boot.order.map((k) => ({ disk: 'HardDisk', cdrom: 'DVD', network: 'Network' })[k]), 'None', 'None', 'None'].slice(0, 4);
  const osType = spec.os?.variant !== undefined && /^[A-Za-z0-9]+(_64)?$/.test(spec.os.variant) ? spec.os.variant : GUEST[spec.os?.type ?? 'other'];
  const machine = xel('Machine', [['uuid', nameUuid(spec.name)], ['name', spec.name], ['OSType', osType], ['snapshotFolder', 'Snapshots']], [
    xel('MediaRegistry', [], [hardDisks.length > 0 && xel('HardDisks', [], hardDisks), dvds.length > 0 && xel('DVDImages', [], dvds)]),
    spec.description !== '' && xtext('Description', spec.description),
    xel('Hardware', [], [
      xel('CPU', [['count', spec.cpu.count]], [xel('PAE', [['enabled', 'true']]), xel('LongMode', [['enabled', 'true']])]),
      xel('Memory', [['RAMSize', Math.ceil(spec.memory / 1024 ** 2)]]),
      spec.boot.firmware === 'uefi' && xel('Firmware', [['type', 'EFI']]),
      xel('Boot', [], order.map((device, i) => xel('Order', [['position', i + 1], ['device', device]]))),
      xel('Display', [['controller', VIDEO[video ?? 'std']], ['VRAMSize', 16]]),
      xel('Network', [], adapters),
      xel('StorageControllers', [], controllers),
    ]),
  ]);
  if (spec.memory % 1024 ** 2 !== 0) w.add('memory', `memory ${spec.memory} bytes becomes ${Math.ceil(spec.memory / 1024 ** 2)} MiB`);
  const root = xel('VirtualBox', [['xmlns', 'http://www.virtualbox.org/'], ['version', '1.16-linux']], [machine]);
  return { files: [{ name: `${spec.name}.vbox`, content: xmlDocument(root) }], warnings: w.list };
}
