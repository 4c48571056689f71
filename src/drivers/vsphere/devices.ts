/**
 * A VM's `config.hardware.device` array → disks and NICs. Pure.
 */
import type { ForeignDisk, ForeignNic } from '../endpoint.js';
import { asArray, num, text, xsiType, type Node } from './soap-envelope.js';

const NIC_MODELS: Record<string, string> = {
  VirtualE1000: 'e1000',
  VirtualE1000e: 'e1000e',
  VirtualVmxnet3: 'vmxnet3',
  VirtualVmxnet3Vrdma: 'vmxnet3',
  VirtualVmxnet2: 'vmxnet2',
  VirtualVmxnet: 'vmxnet',
  VirtualPCNet32: 'pcnet32',
  VirtualSriovEthernetCard: 'sriov',
};

export interface VsphereDisk extends ForeignDisk {
  /** The device key (ReconfigVM_Task addresses devices by it). */
  key: number;
  controllerKey: number | null;
  unitNumber: number | null;
  /** "[datastore] folder/file.vmdk" */
  fileName: string | null;
  backing: string | null;
  /** The backing has a parent: the file is a snapshot's delta, not the whole disk. */
  hasParent: boolean;
}

export interface VsphereNic extends ForeignNic {
  key: number;
  connected: boolean;
}

export interface Devices {
  disks: VsphereDisk[];
  nics: VsphereNic[];
  /** Device types present that Polyvisor's spec has no place for (for toSpec's lossy list). */
  others: string[];
  /** Controllers by key: their type (VirtualLsiLogicController, VirtualIDEController…). */
  controllers: Map<number, string>;
}

/** Device elements a listing maps (disks and NICs); the reader passes over the rest (xml-read.ts `skip`). */
const MAPPED = new RegExp(`type="(VirtualDisk|${Object.keys(NIC_MODELS).join('|')})"`);
export const skipUnmappedDevices = (name: string, attrs: string): boolean => name === 'VirtualDevice' && !MAPPED.test(attrs);

/**
 * The devices of a `config.hardware.device` property (an ArrayOfVirtualDevice
 * wrapping VirtualDevice elements) or of `hardware.device` inside a whole
 * `config` (the device elements themselves).
 */
export function readDevices(val: unknown): Devices {
  const out: Devices = { disks: [], nics: [], others: [], controllers: new Map() };
  const wrapped = val && typeof val === 'object' && !Array.isArray(val) && 'VirtualDevice' in val;
  const list = wrapped ? asArray<Node>((val as Node).VirtualDevice) : asArray<Node>(val).filter((d) => typeof d === 'object');
  for (const d of list) {
    const type = xsiType(d) ?? 'VirtualDevice';
    const key = num(d.key) ?? 0;
    const label = text((d.deviceInfo as Node | undefined)?.label) ?? type;
    const backing = (d.backing ?? {}) as Node;
    if (type === 'VirtualDisk') {
      const bytes = num(d.capacityInBytes) ?? (num(d.capacityInKB) !== null ? num(d.capacityInKB)! * 1024 : null);
      const fileName = text(backing.fileName);
      out.disks.push({
        name: label,
        sizeBytes: bytes,
        location: fileName,
        format: 'vmdk',
        key,
        controllerKey: num(d.controllerKey),
        unitNumber: num(d.unitNumber),
        fileName,
        backing: xsiType(backing),
        hasParent: backing.parent !== undefined && backing.parent !== null && backing.parent !== '',
      });
    } else if (NIC_MODELS[type]) {
      const port = backing.port as Node | undefined;
      const network = text(backing.deviceName) ?? (port ? `dvportgroup ${text(port.portgroupKey) ?? ''}` : null);
      const conn = d.connectable as Node | undefined;
      out.nics.push({
        mac: text(d.macAddress),
        network,
        model: NIC_MODELS[type]!,
        key,
        connected: text(conn?.startConnected) !== 'false',
      });
    } else if (/Controller$/.test(type)) {
      out.controllers.set(key, type);
    } else {
      out.others.push(type);
    }
  }
  return out;
}
