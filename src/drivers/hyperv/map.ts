/**
 * Hyper-V's instances of one VM mapped to Polyvisor's neutral fields: its
 * Msvm_ComputerSystem (state), its realized Msvm_VirtualSystemSettingData
 * (Generation from VirtualSystemSubType), memory and processor settings,
 * disks (Msvm_StorageAllocationSettingData in a drive on a controller) and
 * NICs (synthetic ports connected to a switch). Pure.
 */
import type { ForeignDisk, ForeignNic, ForeignVm, ForeignVmState } from '../endpoint.js';
import { arr, num, pathKey, str, type CimInstance } from './cim.js';

/** Everything read of one VM. */
export interface VmFacts {
  host: string;
  system: CimInstance;
  settings: CimInstance | null;
  memory: CimInstance | null;
  processor: CimInstance | null;
  /** Controllers and drives (Msvm_ResourceAllocationSettingData). */
  rasd: CimInstance[];
  storage: CimInstance[];
  ports: CimInstance[];
  connections: CimInstance[];
  /** Switch GUID → its name. */
  switches: Map<string, string>;
}

const STATES: Record<number, ForeignVmState> = { 2: 'running', 3: 'stopped', 6: 'suspended', 9: 'paused', 32768: 'paused', 32769: 'suspended' };

/** EnabledState → state; the transitional states (Starting, Saving, Stopping…) are 'unknown' until they settle. */
export const stateOf = (enabled: number | null): ForeignVmState => (enabled === null ? 'unknown' : (STATES[enabled] ?? 'unknown'));

/** Generation 1 or 2, from VirtualSystemSubType "Microsoft:Hyper-V:SubType:N" (Generation 1 when absent: Hyper-V before 2012 R2). */
export function generationOf(settings: CimInstance | null): 1 | 2 {
  return settings && /SubType:2$/.test(str(settings, 'VirtualSystemSubType') ?? '') ? 2 : 1;
}

/** The GUID a settings InstanceID belongs to: Microsoft:GUID\… → GUID. */
export const ownerOf = (instanceId: string | null): string => /^Microsoft:([^\\]+)/.exec(instanceId ?? '')?.[1]?.toUpperCase() ?? '';

/** "00155D010203" → "00:15:5d:01:02:03". */
export function macOf(hex: string | null): string | null {
  if (!hex || !/^[0-9A-Fa-f]{12}$/.test(hex.replace(/[-:]/g, ''))) return null;
  return hex.replace(/[-:]/g, '').toLowerCase().replace(/(..)(?!$)/g, '$1:');
}

export interface DiskFacts extends ForeignDisk {
  /** 'ide' or 'scsi': the controller the drive sits on. */
  bus: 'ide' | 'scsi';
}

export function disksOf(f: VmFacts): DiskFacts[] {
  const byId = new Map(f.rasd.map((r) => [str(r, 'InstanceID'), r]));
  const out: Array<DiskFacts & { order: string }> = [];
  for (const s of f.storage) {
    if (num(s, 'ResourceType') !== 31) continue;
    const drive = byId.get(pathKey(str(s, 'Parent'), 'InstanceID'));
    if (drive && num(drive, 'ResourceType') !== 17) continue; // a DVD drive's image
    const ctrl = drive ? byId.get(pathKey(str(drive, 'Parent'), 'InstanceID')) : undefined;
    const bus = ctrl && num(ctrl, 'ResourceType') === 6 ? 'scsi' : 'ide';
    const ctrlNo = ctrl ? (str(ctrl, 'Address') ?? '0') : '0';
    const slot = drive ? (str(drive, 'AddressOnParent') ?? '0') : '0';
    const location = arr(s, 'HostResource')[0] ?? null;
    const ext = /\.(vhdx|vhd|avhdx|avhd)$/i.exec(location ?? '')?.[1]?.toLowerCase() ?? null;
    out.push({ name: `${bus}${ctrlNo}-${slot}`, sizeBytes: null, location, format: ext === 'avhdx' ? 'vhdx' : ext === 'avhd' ? 'vpc' : ext === 'vhd' ? 'vpc' : ext, bus, order: `${bus === 'ide' ? 0 : 1}-${ctrlNo.padStart(3, '0')}-${slot.padStart(3, '0')}` });
  }
  return out.sort((a, b) => a.order.localeCompare(b.order)).map(({ order: _o, ...d }) => d);
}

export function nicsOf(f: VmFacts): ForeignNic[] {
  return f.ports.map((p) => {
    const id = str(p, 'InstanceID');
    const conn = f.connections.find((c) => pathKey(str(c, 'Parent'), 'InstanceID') === id);
    const sw = pathKey(arr(conn ?? { cls: '', props: {} }, 'HostResource')[0] ?? null, 'Name');
    return { mac: macOf(str(p, 'Address')), network: sw ? (f.switches.get(sw.toUpperCase()) ?? sw) : null, model: 'hyperv-synthetic' };
  });
}

export function toForeignVm(f: VmFacts, brief = false): ForeignVm {
  const gen = generationOf(f.settings);
  return {
    id: (str(f.system, 'Name') ?? '').toUpperCase(),
    name: str(f.system, 'ElementName') ?? str(f.system, 'Name') ?? '',
    state: stateOf(num(f.system, 'EnabledState')),
    cpus: num(f.processor ?? { cls: '', props: {} }, 'VirtualQuantity') ?? 1,
    memoryBytes: (num(f.memory ?? { cls: '', props: {} }, 'VirtualQuantity') ?? 512) * 1024 * 1024,
    host: f.host,
    guestOs: null,
    firmware: gen === 2 ? 'uefi' : 'bios',
    disks: brief ? [] : disksOf(f).map(({ bus: _b, ...d }) => d),
    nics: brief ? [] : nicsOf(f),
  };
}
