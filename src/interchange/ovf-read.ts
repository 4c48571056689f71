/**
 * OVF 0.9/1.x/2.x descriptors (DMTF DSP0243) → an ImportPlan: References,
 * DiskSection, VirtualSystem with its VirtualHardwareSection Items,
 * OperatingSystemSection, ProductSection and AnnotationSection, VMware's
 * `vmw:Config` (firmware, secure boot, CoresPerSocket) and VirtualBox's
 * `vbox:Machine` firmware. The XML is read without expanding or fetching any
 * entity (safe-xml.ts). Pure.
 */
import { fail } from '../shared/index.js';
import type { VmSpecInput } from '../spec/index.js';
import { diskFormatOfFile, importName, macOf, memoryText, nicModelFor, Warnings } from './map-helpers.js';
import { itemsOf, readHardware, type OvfController, type OvfHardware } from './ovf-hardware.js';
import { attrOf, osFromOvf, productDescription, sectionWarnings } from './ovf-sections.js';
import { bytesOfQuantity } from './ovf-units.js';
import { childEl, childEls, childText, localName, parseForeignXml, walk, type XmlElement } from './safe-xml.js';
import type { DiskFileFormat, ImportedDisk, ImportPlan, ReadOptions } from './types.js';

type SpecDisk = NonNullable<VmSpecInput['disks']>[number];
type SpecNic = NonNullable<VmSpecInput['networks']>[number];


interface OvfFile { href: string; size?: string; compression?: string; chunkSize?: string }
interface OvfDisk { fileRef?: string; capacity: number; format?: string; source: string }

const SCSI_MODEL: Record<string, NonNullable<VmSpecInput['scsiController']>> = {
  lsilogic: 'lsilogic', lsilogicsas: 'lsisas1068', virtualscsi: 'pvscsi', pvscsi: 'pvscsi', 'virtio-scsi': 'virtio-scsi', virtio: 'virtio-scsi', megasas: 'megasas',
};

const VIDEO: Record<string, NonNullable<NonNullable<VmSpecInput['display']>['video']>> = {
  std: 'std', vga: 'std', virtio: 'virtio', qxl: 'qxl', vmware: 'vmware', vmsvga: 'vmware', cirrus: 'cirrus', none: 'none',
};

const MAX_DISKS = 16;
const MAX_NICS = 8;

export function readOvf(text: string, o: ReadOptions): ImportPlan {
  const root = parseForeignXml(text, 'the OVF descriptor');
  if (localName(root.name) !== 'Envelope') fail('INTERCHANGE_INVALID', `not an OVF descriptor (its root element is <${root.name}>, not <Envelope>)`);
  const w = new Warnings();
  const files = referencesOf(root, w);
  const diskDefs = disksOf(root, w);
  const vs = virtualSystemOf(root, w);
  const path = `VirtualSystem[${attrOf(vs, 'id') ?? ''}]`;
  const hwSections = childEls(vs, 'VirtualHardwareSection');
  if (hwSections.length === 0) fail('INTERCHANGE_INVALID', `${path} has no VirtualHardwareSection`);
  if (hwSections.length > 1) w.add(`${path}/VirtualHardwareSection[2]`, 'only the first VirtualHardwareSection is read');
  const hwSection = hwSections[0]!;
  const hwPath = `${path}/VirtualHardwareSection`;
  const items = itemsOf(hwSection, hwPath, deploymentOption(root, w));
  const hw = readHardware(items, w);
  const familyType = childText(childEl(hwSection, 'System'), 'VirtualSystemType') ?? '';
  const config = vmwConfig(hwSection, hwPath, w);
  const vboxFirmware = attrOf(childEl(childEl(childEl(vs, 'Machine'), 'Hardware'), 'Firmware'), 'type');

  const uefi = /^efi/i.test(config.get('firmware') ?? '') || /^efi/i.test(vboxFirmware ?? '');
  const secureBoot = uefi && /^true$/i.test(config.get('uefi.secureBoot.enabled') ?? config.get('bootOptions.efiSecureBootEnabled') ?? '');
  const { disks, imported, scsiController } = mapDrives(hw, diskDefs, files, o, w);
  const ide = disks.some((d) => d.bus === 'ide') && !disks.some((d) => d.bus === 'sata');
  const networks = mapNics(hw, o, w);
  const spec: VmSpecInput = {
    name: importName(childText(vs, 'Name') ?? attrOf(vs, 'id'), o.name, w, `${path}/Name`),
    cpu: cpuOf(hw, w, hwPath),
    memory: memoryText(hw.memory),
    machine: { type: ide && !secureBoot ? 'pc' : 'q35' },
    boot: { firmware: uefi ? 'uefi' : 'bios', ...(secureBoot ? { secureBoot: true } : {}) },
    disks,
    networks,
  };
  if (scsiController !== undefined) spec.scsiController = scsiController;
  const video = videoOf(hw.video, familyType, o, w, hwPath);
  if (video !== undefined) spec.display = { video };
  const os = osFromOvf(childEl(vs, 'OperatingSystemSection'));
  if (os !== undefined) spec.os = os;
  const description = childText(childEl(vs, 'AnnotationSection'), 'Annotation') ?? productDescription(childEl(vs, 'ProductSection'));
  if (description !== undefined && description !== '') spec.description = description.slice(0, 1024);
  sectionWarnings(vs, path, w);
  return { format: 'ovf', spec, disks: imported, warnings: w.list };
}

function referencesOf(root: XmlElement, w: Warnings): Map<string, OvfFile> {
  const out = new Map<string, OvfFile>();
  for (const f of childEls(childEl(root, 'References'), 'File')) {
    const id = attrOf(f, 'id');
    const href = attrOf(f, 'href');
    if (id === undefined || href === undefined) fail('INTERCHANGE_INVALID', 'References/File needs ovf:id and ovf:href');
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) fail('INTERCHANGE_INVALID', `References/File[${id}]: ${href} is a URL; only files beside the descriptor are read (nothing is fetched)`);
    if (href.startsWith('/') || href.split(/[\\/]/).includes('..')) fail('INTERCHANGE_INVALID', `References/File[${id}]: ${href} points outside the descriptor's directory`);
    const compression = attrOf(f, 'compression');
    const chunkSize = attrOf(f, 'chunkSize');
    if (compression !== undefined && compression !== 'identity') w.add(`References/File[${id}]`, `the file ${href} is compressed (${compression}): it is unpacked before conversion`);
    if (chunkSize !== undefined) w.add(`References/File[${id}]`, `the file ${href} is split into chunks of ${chunkSize} bytes: they are joined before conversion`);
    const size = attrOf(f, 'size');
    out.set(id, { href, ...(size === undefined ? {} : { size }), ...(compression === undefined ? {} : { compression }), ...(chunkSize === undefined ? {} : { chunkSize }) });
  }
  return out;
}

/** The default values of vApp properties (ProductSection/Property), by key: a Disk's capacity may be `${key}`. */
function propertyDefaults(root: XmlElement): Map<string, string> {
  const out = new Map<string, string>();
  walk(root, (e) => {
    const key = localName(e.name) === 'Property' ? attrOf(e, 'key') : undefined;
    const value = attrOf(e, 'value');
    if (key !== undefined && value !== undefined && !out.has(key)) out.set(key, value);
  });
  return out;
}

function disksOf(root: XmlElement, w: Warnings): Map<string, OvfDisk> {
  const out = new Map<string, OvfDisk>();
  const props = propertyDefaults(root);
  // OVF 0.9 names the section DiskSection too, but its disks "VirtualDiskDesc" (capacity in bytes).
  const section = childEl(root, 'DiskSection') ?? childEl(root, 'VirtualDiskDescSection');
  for (const d of [...childEls(section, 'Disk'), ...childEls(section, 'VirtualDiskDesc')]) {
    const id = attrOf(d, 'diskId');
    if (id === undefined) fail('INTERCHANGE_INVALID', 'DiskSection/Disk needs ovf:diskId');
    const source = `DiskSection/Disk[${id}]`;
    let capacityText = attrOf(d, 'capacity') ?? '';
    const prop = /^\$\{([^}]+)\}$/.exec(capacityText.trim())?.[1];
    if (prop !== undefined && props.has(prop)) {
      capacityText = props.get(prop)!;
      w.add(`${source}/@capacity`, `the capacity is the vApp property ${prop}; its default ${capacityText} is used (resize after import for another value)`);
    }
    const capacity = bytesOfQuantity(capacityText, attrOf(d, 'capacityAllocationUnits'), 'byte', `${source}/@capacity`);
    const fileRef = attrOf(d, 'fileRef') || undefined; // VMware writes ovf:fileRef="" for a blank disk
    const format = attrOf(d, 'format');
    out.set(id, { capacity, source, ...(fileRef === undefined ? {} : { fileRef }), ...(format === undefined ? {} : { format }) });
  }
  return out;
}

function virtualSystemOf(root: XmlElement, w: Warnings): XmlElement {
  const direct = childEl(root, 'VirtualSystem');
  if (direct) return direct;
  const coll = childEl(root, 'VirtualSystemCollection');
  const systems = childEls(coll, 'VirtualSystem');
  if (systems.length === 0) fail('INTERCHANGE_INVALID', 'the OVF descriptor has no VirtualSystem');
  if (systems.length > 1) {
    fail('INTERCHANGE_INVALID', `the OVF descriptor is a vApp of ${systems.length} virtual systems (${systems.map((s) => attrOf(s, 'id')).join(', ')}): Polyvisor imports one VM per descriptor`);
  }
  w.add(`VirtualSystemCollection[${attrOf(coll, 'id') ?? ''}]`, 'the vApp around the one virtual system is not kept');
  return systems[0]!;
}

/** The deployment option in use: the default one of a DeploymentOptionSection (warned), else none. */
function deploymentOption(root: XmlElement, w: Warnings): string | undefined {
  const section = childEl(root, 'DeploymentOptionSection');
  if (!section) return undefined;
  const configs = childEls(section, 'Configuration');
  const chosen = configs.find((c) => /^true$/i.test(attrOf(c, 'default') ?? '')) ?? configs[0];
  const id = attrOf(chosen, 'id');
  if (id !== undefined) w.add('DeploymentOptionSection', `the deployment option ${id} is used (of ${configs.map((c) => attrOf(c, 'id')).join(', ')})`);
  return id;
}

/** vmw:Config and vmw:ExtraConfig as key → value; keys the spec has no field for are warned (VMware Tools and power-op settings, and flags that are off, quietly dropped). */
function vmwConfig(section: XmlElement, path: string, w: Warnings): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set(['firmware', 'uefi.secureBoot.enabled', 'bootOptions.efiSecureBootEnabled']);
  for (const c of section.children) {
    const kind = localName(c.name);
    if (kind !== 'Config' && kind !== 'ExtraConfig') continue;
    const key = attrOf(c, 'key') ?? '';
    const value = attrOf(c, 'value') ?? '';
    out.set(key, value);
    if (used.has(key) || /^(tools|powerOpInfo)\./.test(key) || /^false$/i.test(value)) continue;
    w.add(`${path}/vmw:${kind}[key=${key}]`, `${key} = ${value} is not carried over`);
  }
  return out;
}

function cpuOf(hw: OvfHardware, w: Warnings, path: string): NonNullable<VmSpecInput['cpu']> {
  const cps = hw.coresPerSocket;
  if (cps === undefined || (cps === 1 && hw.cpus === 1)) return { count: hw.cpus };
  if (hw.cpus % cps !== 0) {
    w.add(`${path}/Item[ResourceType=3]/vmw:CoresPerSocket`, `${hw.cpus} CPUs do not split into sockets of ${cps} cores: one core per socket`);
    return { count: hw.cpus };
  }
  return { count: hw.cpus, sockets: hw.cpus / cps, cores: cps };
}

function diskFormatOf(format: string | undefined, href: string): { format: DiskFileFormat; variant?: string } {
  const f = (format ?? '').toLowerCase();
  const variant = /#(\w+)/.exec(format ?? '')?.[1];
  if (f.includes('vmdk')) return { format: 'vmdk', ...(variant ? { variant } : {}) };
  if (f.includes('qcow')) return { format: 'qcow2' };
  if (f.includes('vhdx')) return { format: 'vhdx' };
  if (f.includes('vhd')) return { format: 'vpc' };
  if (f.includes('vdi')) return { format: 'vdi' };
  return { format: diskFormatOfFile(href) };
}

function busOf(c: OvfController | undefined, media: 'disk' | 'cdrom', o: ReadOptions, w: Warnings, source: string): SpecDisk['bus'] {
  const kind = c?.kind ?? 'other';
  if (o.virtio === true && media === 'disk') return 'virtio';
  if (kind === 'ide' || kind === 'sata' || kind === 'scsi') return kind;
  if (media === 'cdrom') return 'sata';
  if (kind === 'nvme') w.add(source, 'the NVMe controller is not emulated: the disk goes on virtio (the guest needs virtio-blk drivers)');
  return 'virtio';
}

function mapDrives(hw: OvfHardware, defs: Map<string, OvfDisk>, files: Map<string, OvfFile>, o: ReadOptions, w: Warnings): { disks: SpecDisk[]; imported: ImportedDisk[]; scsiController?: NonNullable<VmSpecInput['scsiController']> } {
  const disks: SpecDisk[] = [];
  const imported: ImportedDisk[] = [];
  const usedDisks = new Set<string>();
  let scsiController: NonNullable<VmSpecInput['scsiController']> | undefined;
  let hdd = 0;
  let cd = 0;
  for (const d of hw.drives) {
    const controller = d.parent === undefined ? undefined : hw.controllers.get(d.parent);
    if (d.parent !== undefined && controller === undefined) w.add(d.source, `its Parent ${d.parent} is no controller Item: the drive goes on virtio`);
    const bus = busOf(controller, d.media, o, w, d.source);
    if (bus === 'scsi' && controller) scsiController = scsiModel(controller, scsiController, o, w);
    const ref = /^(?:ovf:)?\/*(disk|file)\/(.+)$/.exec(d.hostResource);
    if (d.media === 'cdrom') {
      const file = ref?.[1] === 'file' ? files.get(ref[2]!) : undefined;
      if (file === undefined) {
        w.add(d.source, d.hostResource === '' ? 'an empty CD/DVD drive is not kept (the spec has CD-ROMs with an ISO only)' : `the CD/DVD drive's ${d.hostResource} is not a file of the package: the drive is not kept`);
        continue;
      }
      const name = `cdrom${cd++}`;
      disks.push({ name, path: file.href, media: 'cdrom', format: 'raw', bus: bus === 'virtio' ? 'sata' : bus, readOnly: true });
      imported.push({ name, file: file.href, format: 'raw' });
      continue;
    }
    if (ref?.[1] !== 'disk') fail('INTERCHANGE_INVALID', `${d.source}: HostResource ${JSON.stringify(d.hostResource)} names no disk of the DiskSection`);
    const def = defs.get(ref[2]!);
    if (def === undefined) fail('INTERCHANGE_INVALID', `${d.source}: the disk ${ref[2]} is not in the DiskSection`);
    if (usedDisks.has(ref[2]!)) fail('INTERCHANGE_INVALID', `${d.source}: the disk ${ref[2]} is attached twice`);
    usedDisks.add(ref[2]!);
    const name = `disk${hdd++}`;
    if (def.fileRef === undefined) {
      w.add(def.source, `a blank disk (no file): an empty ${def.capacity}-byte disk is created`);
      disks.push({ name, size: def.capacity, format: 'qcow2', bus });
      continue;
    }
    const file = files.get(def.fileRef);
    if (file === undefined) fail('INTERCHANGE_INVALID', `${def.source}: its fileRef ${def.fileRef} is not in References`);
    disks.push({ name, path: file.href, format: 'qcow2', bus });
    imported.push({ name, file: file.href, capacity: def.capacity, ...diskFormatOf(def.format, file.href) });
  }
  if (disks.length > MAX_DISKS) fail('INTERCHANGE_INVALID', `the VM has ${disks.length} disks and CD-ROMs; a spec holds at most ${MAX_DISKS}`);
  return { disks, imported, ...(scsiController === undefined ? {} : { scsiController }) };
}

function scsiModel(c: OvfController, prev: NonNullable<VmSpecInput['scsiController']> | undefined, o: ReadOptions, w: Warnings): NonNullable<VmSpecInput['scsiController']> | undefined {
  if (o.virtio === true) return undefined;
  const sub = c.subtype.toLowerCase();
  let model = SCSI_MODEL[sub];
  if (model === undefined) {
    model = 'lsilogic';
    if (prev === undefined) w.add(c.source, `the SCSI controller ${c.subtype || '(no ResourceSubType)'} is not emulated: it becomes an LSI Logic 53C895A`);
  }
  if (prev !== undefined && prev !== model) {
    w.add(c.source, `a second SCSI controller of another kind (${c.subtype}): its disks share the ${prev} controller`);
    return prev;
  }
  return model;
}

function mapNics(hw: OvfHardware, o: ReadOptions, w: Warnings): SpecNic[] {
  if (hw.nics.length > MAX_NICS) fail('INTERCHANGE_INVALID', `the VM has ${hw.nics.length} NICs; a spec holds at most ${MAX_NICS}`);
  return hw.nics.map((n, i) => {
    const model = nicModelFor(n.subtype === '' ? 'e1000' : n.subtype, o, w, `${n.source}/ResourceSubType`);
    if (n.connection !== undefined && n.connection !== '') {
      w.add(`${n.source}/Connection`, `the network ${JSON.stringify(n.connection)} is not kept: the NIC uses user-mode networking (attach it to a Polyvisor network after import)`);
    }
    const mac = macOf(n.mac);
    if (n.mac !== undefined && n.mac !== '' && mac === undefined) w.add(`${n.source}/Address`, `${JSON.stringify(n.mac)} is not a MAC address: one is generated`);
    return { name: `net${i}`, model, ...(mac ? { mac } : {}) };
  });
}

function videoOf(subtype: string | undefined, family: string, o: ReadOptions, w: Warnings, path: string): NonNullable<NonNullable<VmSpecInput['display']>['video']> | undefined {
  if (subtype === undefined) return undefined;
  const s = subtype.toLowerCase();
  let video = VIDEO[s];
  if (video === undefined) {
    // VMware writes its SVGA card without a subtype; others get a standard VGA.
    video = /^vmx-/i.test(family) && s === '' ? 'vmware' : 'std';
    if (s !== '') w.add(`${path}/Item[ResourceType=24]`, `the video card ${subtype} becomes a standard VGA`);
  }
  if (o.virtio === true && video !== 'none' && video !== 'virtio') {
    w.add(`${path}/Item[ResourceType=24]`, `the video card ${video} becomes virtio-vga (--virtio)`);
    return 'virtio';
  }
  return video;
}
