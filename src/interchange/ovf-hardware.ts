/**
 * An OVF VirtualHardwareSection's Items (RASD `Item`, OVF 2's SASD
 * `StorageItem` and EPASD `EthernetPortItem`) → CPU, memory, controllers,
 * disks, CD-ROMs, NICs and video, each Item by its ResourceType (CIM
 * ResourceAllocationSettingData). Pure; ovf-read.ts assembles the plan.
 */
import { fail } from '../shared/index.js';
import { childText, localName, type XmlElement } from './safe-xml.js';
import { bytesOfQuantity, countOf } from './ovf-units.js';
import type { Warnings } from './map-helpers.js';

/** One Item's fields by local name (rasd:ResourceType → ResourceType), and where it sits. */
export interface OvfItem {
  source: string;
  fields: Record<string, string>;
  /** Child elements not in the RASD namespace (vmw:CoresPerSocket, vmw:Config…). */
  extras: XmlElement[];
  type: number;
  id: string;
}

export type ControllerKind = 'ide' | 'scsi' | 'sata' | 'nvme' | 'other';

export interface OvfController {
  kind: ControllerKind;
  subtype: string;
  source: string;
}

export interface OvfDrive {
  media: 'disk' | 'cdrom';
  /** ovf:/disk/ID or ovf:/file/ID, or '' (an empty drive). */
  hostResource: string;
  parent: string | undefined;
  address: number;
  source: string;
}

export interface OvfNic {
  subtype: string;
  connection: string | undefined;
  mac: string | undefined;
  source: string;
}

export interface OvfHardware {
  cpus: number;
  coresPerSocket: number | undefined;
  memory: number;
  controllers: Map<string, OvfController>;
  drives: OvfDrive[];
  nics: OvfNic[];
  video: string | undefined;
}

const ITEM_NAMES = new Set(['Item', 'StorageItem', 'EthernetPortItem']);
const RASD_PREFIXES = /^(rasd|sasd|epasd)$/i;
const MAX_ITEMS = 1000;

/** CIM resource types that are not carried, named for the warning. */
const NOT_CARRIED: Record<number, string> = {
  1: 'device', 7: 'Fibre Channel HBA', 8: 'iSCSI HBA', 9: 'InfiniBand HCA', 11: 'network adapter', 12: 'I/O slot', 13: 'I/O device',
  14: 'floppy drive', 18: 'tape drive', 21: 'serial port', 22: 'parallel port', 23: 'USB controller', 25: 'IEEE 1394 controller', 35: 'sound card',
};

function itemOf(e: XmlElement, source: string): OvfItem {
  const fields: Record<string, string> = {};
  const extras: XmlElement[] = [];
  for (const c of e.children) {
    const prefix = c.name.includes(':') ? c.name.slice(0, c.name.indexOf(':')) : '';
    if (prefix === '' || RASD_PREFIXES.test(prefix)) fields[localName(c.name)] = c.text.trim();
    else extras.push(c);
  }
  const type = countOf(fields['ResourceType'], 0, 65535, `${source}/ResourceType`);
  return { source, fields, extras, type, id: fields['InstanceID'] ?? '' };
}

/** The Items of a VirtualHardwareSection that belong to the chosen deployment configuration. */
export function itemsOf(section: XmlElement, path: string, configuration: string | undefined): OvfItem[] {
  const raw = section.children.filter((c) => ITEM_NAMES.has(localName(c.name)));
  if (raw.length > MAX_ITEMS) fail('INTERCHANGE_INVALID', `${path} has ${raw.length} Items; more than ${MAX_ITEMS} is not a virtual machine`);
  const items: OvfItem[] = [];
  for (const e of raw) {
    const id = childText(e, 'InstanceID') ?? String(items.length);
    const source = `${path}/${localName(e.name)}[InstanceID=${id}]`;
    const config = Object.entries(e.attrs).find(([k]) => localName(k) === 'configuration')?.[1];
    if (config !== undefined && configuration !== undefined && !config.split(/\s+/).includes(configuration)) continue;
    items.push(itemOf(e, source));
  }
  return items;
}

export function controllerKindOf(type: number, subtype: string): ControllerKind {
  if (type === 5) return 'ide';
  if (type === 6) return 'scsi';
  const s = subtype.toLowerCase();
  if (type === 20 && /ahci|sata/.test(s)) return 'sata';
  if (type === 20 && /nvme/.test(s)) return 'nvme';
  if (type === 20 && /scsi|lsilogic|buslogic/.test(s)) return 'scsi';
  return 'other';
}

/** Items → the hardware a spec can hold; the rest becomes warnings naming their Item. */
export function readHardware(items: OvfItem[], w: Warnings): OvfHardware {
  const hw: OvfHardware = { cpus: 1, coresPerSocket: undefined, memory: 0, controllers: new Map(), drives: [], nics: [], video: undefined };
  let sawCpu = false;
  let sawMemory = false;
  for (const it of items) {
    const f = it.fields;
    const subtype = f['ResourceSubType'] ?? '';
    switch (it.type) {
      case 3: {
        if (sawCpu) w.add(it.source, 'a second processor Item is ignored');
        sawCpu = true;
        hw.cpus = countOf(f['VirtualQuantity'], 1, 256, `${it.source}/VirtualQuantity`, 1);
        const cps = it.extras.find((x) => localName(x.name) === 'CoresPerSocket')?.text.trim();
        if (cps !== undefined) hw.coresPerSocket = countOf(cps, 1, 256, `${it.source}/CoresPerSocket`);
        break;
      }
      case 4: {
        if (sawMemory) w.add(it.source, 'a second memory Item is ignored');
        sawMemory = true;
        hw.memory = bytesOfQuantity(f['VirtualQuantity'] ?? '', f['AllocationUnits'] ?? f['VirtualQuantityUnits'], 'byte * 2^20', `${it.source}/VirtualQuantity`);
        break;
      }
      case 5: case 6: case 20: {
        const kind = controllerKindOf(it.type, subtype);
        if (kind === 'other') {
          w.add(it.source, `the storage controller ${subtype || `of ResourceType ${it.type}`} is not known: its disks go on virtio`);
        }
        hw.controllers.set(it.id, { kind, subtype, source: it.source });
        break;
      }
      case 15: case 16: case 17: {
        const address = f['AddressOnParent'] === undefined ? hw.drives.length : countOf(f['AddressOnParent'], 0, 65535, `${it.source}/AddressOnParent`);
        hw.drives.push({ media: it.type === 17 ? 'disk' : 'cdrom', hostResource: f['HostResource'] ?? '', parent: f['Parent'], address, source: it.source });
        break;
      }
      case 10:
        hw.nics.push({ subtype, connection: f['Connection'], mac: f['Address'], source: it.source });
        break;
      case 24:
        if (hw.video !== undefined) w.add(it.source, 'a second video card is ignored');
        hw.video = subtype;
        break;
      default:
        if (subtype === 'vmware.vmci') break; // VMware's host-guest channel: nothing a QEMU guest needs, and in every VMware OVF
        w.add(it.source, `the ${NOT_CARRIED[it.type] ?? `ResourceType ${it.type} device`}${subtype ? ` (${subtype})` : ''}${f['ElementName'] ? ` "${f['ElementName']}"` : ''} is not carried over`);
    }
  }
  if (!sawMemory) fail('INTERCHANGE_INVALID', 'the VirtualHardwareSection has no memory Item (ResourceType 4)');
  return hw;
}
