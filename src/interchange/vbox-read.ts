/**
 * VirtualBox machine XML (`.vbox`, settings 1.x of VirtualBox 4-7) → an
 * ImportPlan: Machine name, OSType, Description; Hardware CPU count, Memory
 * RAMSize, Firmware, Display controller, Network Adapters (type → model,
 * MACAddress, attachment); StorageControllers (in Hardware, or in Machine as
 * some older files have them) with AttachedDevices resolved through the MediaRegistry. A medium's
 * relative location is kept (inside the .vbox's folder); other paths keep only
 * their file name and are looked up beside the .vbox.
 * Pure.
 */
import { fail } from '../shared/index.js';
import type { VmSpecInput } from '../spec/index.js';
import { baseName, diskFormatOfFile, importName, macOf, memoryText, nicModelFor, Warnings } from './map-helpers.js';
import { attrOf } from './ovf-sections.js';
import { osTypeOf } from './ovf-units.js';
import { childEl, childEls, childText, localName, parseForeignXml, type XmlElement } from './safe-xml.js';
import type { DiskFileFormat, ImportedDisk, ImportPlan, ReadOptions } from './types.js';

type SpecDisk = NonNullable<VmSpecInput['disks']>[number];

interface Medium { location: string; format: string; differencing: boolean }

const CONTROLLER: Record<string, { bus: SpecDisk['bus']; scsi?: NonNullable<VmSpecInput['scsiController']>; note?: string }> = {
  PIIX3: { bus: 'ide' }, PIIX4: { bus: 'ide' }, ICH6: { bus: 'ide' },
  AHCI: { bus: 'sata' },
  LsiLogic: { bus: 'scsi', scsi: 'lsilogic' },
  BusLogic: { bus: 'scsi', scsi: 'lsilogic', note: 'the BusLogic controller is not emulated: it becomes an LSI Logic 53C895A' },
  LsiLogicSas: { bus: 'scsi', scsi: 'lsisas1068' },
  VirtioSCSI: { bus: 'scsi', scsi: 'virtio-scsi' },
  NVMe: { bus: 'virtio', note: 'the NVMe controller is not emulated: its disks go on virtio (the guest needs virtio-blk drivers)' },
};

const NIC_TYPE: Record<string, string> = { '82540EM': 'e1000', '82543GC': 'e1000', '82545EM': 'e1000', virtio: 'virtio', Am79C970A: 'pcnet', Am79C973: 'pcnet', Am79C960: 'pcnet' };
const VIDEO: Record<string, NonNullable<NonNullable<VmSpecInput['display']>['video']>> = { VBoxVGA: 'std', VMSVGA: 'vmware', VBoxSVGA: 'std', Null: 'none' };
const FORMAT: Record<string, DiskFileFormat> = { vdi: 'vdi', vmdk: 'vmdk', vhd: 'vpc', qcow: 'qcow2', qed: 'raw', parallels: 'raw', raw: 'raw' };

/** Quietly dropped parts of Hardware (VirtualBox's own behaviour, nothing a QEMU guest sees) and parts read below. */
const QUIET_HW = new Set(['CPU', 'Memory', 'Firmware', 'Display', 'Network', 'StorageControllers', 'Boot', 'HID', 'HPET', 'Chipset', 'Paravirt', 'VideoCapture', 'RemoteDisplay', 'BIOS', 'Clipboard', 'DragAndDrop', 'GuestProperties', 'IO', 'HostPci', 'EmulatedUSB', 'Autostart', 'Platform', 'StorageControllers', 'TrustedPlatformModule', 'NVRAM', 'SharedFolders', 'AudioAdapter', 'USB', 'UART', 'LPT', 'Frontend', 'Recording', 'LPTs', 'RTC', 'Guest']);

function mediaOf(machine: XmlElement): Map<string, Medium> {
  const out = new Map<string, Medium>();
  const add = (e: XmlElement, differencing: boolean): void => {
    const uuid = attrOf(e, 'uuid');
    const location = attrOf(e, 'location');
    if (uuid !== undefined && location !== undefined) out.set(uuid.toLowerCase(), { location, format: attrOf(e, 'format') ?? '', differencing });
    for (const c of childEls(e, 'HardDisk')) add(c, true);
  };
  const reg = childEl(machine, 'MediaRegistry');
  for (const d of childEls(childEl(reg, 'HardDisks'), 'HardDisk')) add(d, false);
  for (const i of [...childEls(childEl(reg, 'DVDImages'), 'Image'), ...childEls(childEl(reg, 'FloppyImages'), 'Image')]) add(i, false);
  if (out.size > 10_000) fail('INTERCHANGE_INVALID', 'the MediaRegistry holds more than 10000 media');
  return out;
}

export function readVbox(text: string, o: ReadOptions): ImportPlan {
  const root = parseForeignXml(text, 'the VirtualBox machine file');
  if (localName(root.name) !== 'VirtualBox') fail('INTERCHANGE_INVALID', `not a VirtualBox machine file (its root element is <${root.name}>, not <VirtualBox>)`);
  const machine = childEl(root, 'Machine');
  if (!machine) fail('INTERCHANGE_INVALID', 'the VirtualBox file has no <Machine>');
  const w = new Warnings();
  const hw = childEl(machine, 'Hardware');
  if (!hw) fail('INTERCHANGE_INVALID', 'the VirtualBox machine has no <Hardware>');
  const count = countAttr(childEl(hw, 'CPU'), 'count', 1, 256, 'Hardware/CPU/@count', 1);
  const ram = countAttr(childEl(hw, 'Memory'), 'RAMSize', 4, 4 * 1024 * 1024, 'Hardware/Memory/@RAMSize');
  const firmware = attrOf(childEl(hw, 'Firmware'), 'type') ?? attrOf(childEl(childEl(hw, 'Platform'), 'Firmware'), 'type') ?? 'BIOS';
  const uefi = /^EFI/i.test(firmware);
  const { disks, imported, scsiController } = readStorage(childEl(machine, 'StorageControllers') ?? childEl(hw, 'StorageControllers'), mediaOf(machine), o, w);
  const ideOnly = disks.some((d) => d.bus === 'ide') && !disks.some((d) => d.bus === 'sata');
  const spec: VmSpecInput = {
    name: importName(attrOf(machine, 'name'), o.name, w, 'Machine/@name'),
    cpu: { count },
    memory: memoryText(Math.max(16, ram) * 1024 * 1024),
    machine: { type: ideOnly ? 'pc' : 'q35' },
    boot: { firmware: uefi ? 'uefi' : 'bios' },
    disks,
    networks: readAdapters(childEl(hw, 'Network'), o, w),
  };
  if (ram < 16) w.add('Hardware/Memory/@RAMSize', `${ram} MB becomes 16 MiB, the least a spec holds`);
  if (scsiController !== undefined) spec.scsiController = scsiController;
  const display = childEl(hw, 'Display');
  const ctl = attrOf(display, 'controller') ?? (display ? 'VBoxVGA' : undefined);
  if (ctl !== undefined) {
    let video = VIDEO[ctl] ?? 'std';
    if (ctl === 'VBoxSVGA' || VIDEO[ctl] === undefined) w.add('Hardware/Display/@controller', `the ${ctl} video card becomes a standard VGA`);
    if (o.virtio === true && video !== 'none') video = 'virtio';
    spec.display = { video };
  }
  const osType = attrOf(machine, 'OSType');
  if (osType !== undefined && osType !== '') spec.os = { type: osTypeOf(osType), variant: osType.replace(/[^\x20-\x7e]/g, '').slice(0, 128) };
  const description = childText(machine, 'Description');
  if (description) spec.description = description.slice(0, 1024);
  for (const c of hw.children) if (!QUIET_HW.has(localName(c.name))) w.add(`Hardware/${c.name}`, `<${c.name}> is not carried over`);
  for (const c of childEls(childEl(hw, 'UART'), 'Port')) if (/^true$/i.test(attrOf(c, 'enabled') ?? '')) w.add(`Hardware/UART/Port[${attrOf(c, 'slot') ?? ''}]`, 'the serial port is not carried over (the spec\'s serial console is always on a socket)');
  if (/^true$/i.test(attrOf(childEl(hw, 'AudioAdapter'), 'enabled') ?? '')) w.add('Hardware/AudioAdapter', 'the sound card is not carried over');
  for (const c of childEls(childEl(childEl(hw, 'USB'), 'Controllers'), 'Controller')) w.add(`Hardware/USB/Controllers/Controller[${attrOf(c, 'name') ?? ''}]`, 'the USB controller is not carried over');
  if (/^local$/i.test(attrOf(childEl(hw, 'RTC'), 'localOrUTC') ?? '')) w.add('Hardware/RTC/@localOrUTC', 'the clock in local time is not kept: the guest\'s RTC runs in UTC (set the guest to read it as UTC, as Windows does with RealTimeIsUniversal)');
  const balloon = attrOf(childEl(hw, 'Guest'), 'memoryBalloonSize') ?? '0';
  if (balloon !== '0') w.add('Hardware/Guest/@memoryBalloonSize', `the ${balloon} MB memory balloon is not carried over (set it after import with polyvisor vm resize --balloon)`);
  for (const c of childEls(childEl(hw, 'SharedFolders'), 'SharedFolder')) w.add(`Hardware/SharedFolders/SharedFolder[${attrOf(c, 'name') ?? ''}]`, 'shared folders are not carried over');
  if (childEl(machine, 'Snapshot')) w.add('Machine/Snapshot', 'snapshots are not carried over: the current state of each disk is imported');
  return { format: 'vbox', spec, disks: imported, warnings: w.list };
}

function countAttr(e: XmlElement | undefined, name: string, min: number, max: number, where: string, fallback?: number): number {
  const v = attrOf(e, name);
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    fail('INTERCHANGE_INVALID', `${where} is missing`);
  }
  const n = /^\d{1,12}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) fail('INTERCHANGE_INVALID', `${where}: ${JSON.stringify(v)} is not a number from ${min} to ${max}`);
  return n;
}

function readStorage(section: XmlElement | undefined, media: Map<string, Medium>, o: ReadOptions, w: Warnings): { disks: SpecDisk[]; imported: ImportedDisk[]; scsiController?: NonNullable<VmSpecInput['scsiController']> } {
  const disks: SpecDisk[] = [];
  const imported: ImportedDisk[] = [];
  let scsiController: NonNullable<VmSpecInput['scsiController']> | undefined;
  let hdd = 0;
  let cd = 0;
  for (const c of childEls(section, 'StorageController')) {
    const cname = attrOf(c, 'name') ?? '';
    const type = attrOf(c, 'type') ?? '';
    const path = `StorageControllers/StorageController[${cname}]`;
    const map = CONTROLLER[type];
    if (map === undefined) {
      if (childEls(c, 'AttachedDevice').length > 0) w.add(path, `the ${type} controller is not emulated: its devices are not carried over`);
      continue;
    }
    if (map.note !== undefined) w.add(path, map.note);
    const devices = [...childEls(c, 'AttachedDevice')].sort((a, b) => Number(attrOf(a, 'port') ?? 0) - Number(attrOf(b, 'port') ?? 0) || Number(attrOf(a, 'device') ?? 0) - Number(attrOf(b, 'device') ?? 0));
    for (const d of devices) {
      const kind = attrOf(d, 'type') ?? '';
      const where = `${path}/AttachedDevice[port=${attrOf(d, 'port') ?? ''},device=${attrOf(d, 'device') ?? ''}]`;
      const uuid = attrOf(childEl(d, 'Image'), 'uuid')?.toLowerCase();
      const medium = uuid === undefined ? undefined : media.get(uuid);
      if (kind === 'DVD') {
        if (medium === undefined) {
          w.add(where, childEl(d, 'HostDrive') ? 'a host DVD drive is not kept' : 'an empty DVD drive is not kept (the spec has CD-ROMs with an ISO only)');
          continue;
        }
        const file = besideVbox(medium.location, where, w);
        const name = `cdrom${cd++}`;
        disks.push({ name, path: file, media: 'cdrom', format: 'raw', bus: map.bus === 'virtio' ? 'sata' : map.bus, readOnly: true });
        imported.push({ name, file, format: 'raw' });
        continue;
      }
      if (kind !== 'HardDisk') {
        w.add(where, `the ${kind || 'unknown'} device is not carried over`);
        continue;
      }
      if (medium === undefined) fail('INTERCHANGE_INVALID', `${where}: the image ${uuid ?? '(none)'} is not in the MediaRegistry`);
      if (medium.differencing) w.add(where, `the disk is a snapshot's differencing image (${medium.location}): it is imported with its parents as one disk`);
      const file = besideVbox(medium.location, where, w);
      let bus = map.bus;
      if (o.virtio === true) bus = 'virtio';
      if (bus === 'scsi' && map.scsi !== undefined) {
        if (scsiController !== undefined && scsiController !== map.scsi) w.add(path, `a second SCSI controller of another kind (${type}): its disks share the ${scsiController} controller`);
        scsiController ??= map.scsi;
      }
      const name = `disk${hdd++}`;
      disks.push({ name, path: file, format: 'qcow2', bus });
      imported.push({ name, file, format: FORMAT[medium.format.toLowerCase()] ?? diskFormatOfFile(file) });
    }
  }
  if (disks.length > 16) fail('INTERCHANGE_INVALID', `the machine has ${disks.length} disks and DVDs; a spec holds at most 16`);
  return { disks, imported, ...(scsiController === undefined ? {} : { scsiController }) };
}

/**
 * Where a medium is looked for: a relative location inside the machine's folder as written (VirtualBox records
 * `Snapshots/{uuid}.vmdk` relative to the .vbox), anything else (an absolute path of the machine it ran on, a
 * Windows path, `..`) by its file name beside the .vbox.
 */
function besideVbox(location: string, where: string, w: Warnings): string {
  if (!/[:\\]/.test(location) && !location.split('/').some((p) => p === '..' || p === '.' || p === '')) return location;
  const file = baseName(location);
  if (file === '' || file === '..' || file === '.') fail('INTERCHANGE_INVALID', `${where}: ${JSON.stringify(location)} names no file`);
  if (file !== location) w.add(where, `${location} is looked up as ${file} beside the .vbox file`);
  return file;
}

function readAdapters(network: XmlElement | undefined, o: ReadOptions, w: Warnings): NonNullable<VmSpecInput['networks']> {
  const adapters = childEls(network, 'Adapter').filter((a) => /^true$/i.test(attrOf(a, 'enabled') ?? 'false'));
  if (adapters.length > 8) fail('INTERCHANGE_INVALID', `the machine has ${adapters.length} enabled network adapters; a spec holds at most 8`);
  return adapters.map((a, i) => {
    const slot = attrOf(a, 'slot') ?? String(i);
    const where = `Hardware/Network/Adapter[slot=${slot}]`;
    const type = attrOf(a, 'type') ?? 'Am79C973';
    const model = nicModelFor(NIC_TYPE[type] ?? type, o, w, `${where}/@type`);
    const mac = macOf(attrOf(a, 'MACAddress'));
    const attachment = a.children.find((c) => localName(c.name) !== 'DisabledModes');
    if (attachment !== undefined && localName(attachment.name) !== 'NAT') {
      const target = attrOf(attachment, 'name');
      w.add(`${where}/${attachment.name}`, `the ${attachment.name} attachment${target ? ` to ${target}` : ''} is not kept: the NIC uses user-mode networking (attach it to a Polyvisor network after import)`);
    }
    for (const f of childEls(attachment, 'Forwarding')) w.add(`${where}/NAT/Forwarding[${attrOf(f, 'name') ?? ''}]`, 'NAT port forwarding is not carried over (add portForwards to the spec)');
    return { name: `net${i}`, model, ...(mac ? { mac } : {}) };
  });
}
