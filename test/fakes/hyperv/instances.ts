/**
 * The world seen as WMI instances of the v2 namespace, per host: what an
 * enumeration of a class returns. Object paths (Parent, HostResource) are
 * written as WMI writes them: \\HOST\root\virtualization\v2:Class.Key="value",
 * backslashes in values doubled.
 */
import { ENABLED_STATE, JOB_STATE } from './schema.js';
import type { FakeVm, World } from './state.js';

export type Value = string | string[] | null;
export interface Instance {
  cls: string;
  props: Record<string, Value>;
}

export const MEMORY_ID = '4764334D-E001-4176-82EE-5594EC9B530E';
export const PROCESSOR_ID = 'B637F346-6A0E-4DEC-AF52-BD70CB80A21D';
export const IDE_ID = '83F8638B-8DCA-4152-9EDA-2CA8B33039B4';
export const SCSI_ID = 'D422512D-2BF2-4752-809D-7B82B5FCB1B4';

export function objectPath(host: string, cls: string, keys: Record<string, string>): string {
  const sel = Object.entries(keys).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',');
  return `\\\\${host}\\root\\virtualization\\v2:${cls}.${sel}`;
}

/** CIM datetime: yyyymmddHHMMSS.mmmmmm+000 */
export function cimDate(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds() * 1000, 6)}+000`;
}

const svc = (host: string, cls: string, name: string): Instance => ({
  cls, props: { CreationClassName: cls, Name: name, SystemCreationClassName: 'Msvm_ComputerSystem', SystemName: host, ElementName: name, EnabledState: '2' },
});

function vmInstances(host: string, vm: FakeVm, switches: Map<string, string>): Instance[] {
  const g = vm.guid;
  const rasd = (id: string): string => objectPath(host, 'Msvm_ResourceAllocationSettingData', { InstanceID: id });
  const out: Instance[] = [];
  out.push({
    cls: 'Msvm_ComputerSystem',
    props: {
      Caption: 'Virtual Machine', Description: 'Microsoft Virtual Machine', ElementName: vm.name, CreationClassName: 'Msvm_ComputerSystem', Name: g,
      EnabledState: String(vm.state), RequestedState: '12', HealthState: '5', OnTimeInMilliseconds: vm.state === ENABLED_STATE.Running ? '1000' : '0',
      ProcessID: vm.state === ENABLED_STATE.Running ? '4242' : null, NumberOfNumaNodes: '1', EnhancedSessionModeState: '3',
    },
  });
  const snapPath = (id: string): string => objectPath(host, 'Msvm_VirtualSystemSettingData', { InstanceID: `Microsoft:${id}` });
  out.push({
    cls: 'Msvm_VirtualSystemSettingData',
    props: {
      InstanceID: `Microsoft:${g}`, Caption: 'Virtual Machine Settings', ElementName: vm.name, VirtualSystemIdentifier: g,
      VirtualSystemType: 'Microsoft:Hyper-V:System:Realized', VirtualSystemSubType: `Microsoft:Hyper-V:SubType:${vm.gen}`,
      Notes: vm.notes ? [vm.notes] : null, ConfigurationID: g, Version: '10.0', IsSaved: vm.state === ENABLED_STATE.Saved ? 'true' : 'false',
      SecureBootEnabled: vm.gen === 2 ? String(vm.secureBoot) : null, Parent: vm.current ? snapPath(vm.current) : null,
    },
  });
  for (const s of vm.snaps) {
    out.push({
      cls: 'Msvm_VirtualSystemSettingData',
      props: {
        InstanceID: `Microsoft:${s.id}`, Caption: 'Virtual Machine Settings', ElementName: s.name, VirtualSystemIdentifier: g,
        VirtualSystemType: 'Microsoft:Hyper-V:Snapshot:Realized', VirtualSystemSubType: `Microsoft:Hyper-V:SubType:${vm.gen}`,
        CreationTime: cimDate(s.created), ConfigurationID: s.id, Version: '10.0', IsSaved: 'false', Parent: s.parent ? snapPath(s.parent) : null,
      },
    });
  }
  out.push({
    cls: 'Msvm_MemorySettingData',
    props: {
      InstanceID: `Microsoft:${g}\\${MEMORY_ID}`, ElementName: 'Memory', ResourceType: '4', ResourceSubType: 'Microsoft:Hyper-V:Memory',
      AllocationUnits: 'byte * 2^20', VirtualQuantity: String(vm.memMiB), Reservation: String(vm.memMiB), Limit: '1048576', Weight: '5000',
      DynamicMemoryEnabled: String(vm.dynamicMemory), TargetMemoryBuffer: '20',
    },
  });
  out.push({
    cls: 'Msvm_ProcessorSettingData',
    props: {
      InstanceID: `Microsoft:${g}\\${PROCESSOR_ID}\\0`, ElementName: 'Processor', ResourceType: '3', ResourceSubType: 'Microsoft:Hyper-V:Processor',
      AllocationUnits: 'percent / 1000', VirtualQuantity: String(vm.cpus), Reservation: '0', Limit: '100000', Weight: '100', LimitCPUID: 'false', LimitProcessorFeatures: 'false',
    },
  });
  const ctrl = vm.gen === 1 ? `Microsoft:${g}\\${IDE_ID}\\0` : `Microsoft:${g}\\${SCSI_ID}`;
  out.push({
    cls: 'Msvm_ResourceAllocationSettingData',
    props: vm.gen === 1
      ? { InstanceID: ctrl, ElementName: 'IDE Controller 0', ResourceType: '5', ResourceSubType: 'Microsoft:Hyper-V:Emulated IDE Controller', Address: '0' }
      : { InstanceID: ctrl, ElementName: 'SCSI Controller', ResourceType: '6', ResourceSubType: 'Microsoft:Hyper-V:Synthetic SCSI Controller' },
  });
  vm.disks.forEach((d, i) => {
    const drive = `${ctrl}\\${i}\\D`;
    out.push({ cls: 'Msvm_ResourceAllocationSettingData', props: { InstanceID: drive, ElementName: 'Hard Drive', ResourceType: '17', ResourceSubType: 'Microsoft:Hyper-V:Synthetic Disk Drive', Parent: rasd(ctrl), AddressOnParent: String(i) } });
    out.push({ cls: 'Msvm_StorageAllocationSettingData', props: { InstanceID: `${ctrl}\\${i}\\L`, ElementName: 'Hard Disk Image', ResourceType: '31', ResourceSubType: 'Microsoft:Hyper-V:Virtual Hard Disk', HostResource: [d.winPath], Parent: rasd(drive) } });
  });
  if (vm.gen === 1) {
    // Generation 1 VMs come with a DVD drive on the second IDE controller: not a disk, left out by the driver.
    const ide1 = `Microsoft:${g}\\${IDE_ID}\\1`;
    out.push({ cls: 'Msvm_ResourceAllocationSettingData', props: { InstanceID: ide1, ElementName: 'IDE Controller 1', ResourceType: '5', ResourceSubType: 'Microsoft:Hyper-V:Emulated IDE Controller', Address: '1' } });
    out.push({ cls: 'Msvm_ResourceAllocationSettingData', props: { InstanceID: `${ide1}\\0\\D`, ElementName: 'DVD Drive', ResourceType: '16', ResourceSubType: 'Microsoft:Hyper-V:Synthetic DVD Drive', Parent: rasd(ide1), AddressOnParent: '0' } });
  }
  for (const n of vm.nics) {
    const port = `Microsoft:${g}\\${n.id}`;
    out.push({
      cls: 'Msvm_SyntheticEthernetPortSettingData',
      props: { InstanceID: port, ElementName: 'Network Adapter', ResourceType: '10', ResourceSubType: 'Microsoft:Hyper-V:Synthetic Ethernet Port', Address: n.mac, StaticMacAddress: 'false', VirtualSystemIdentifiers: [`{${n.id}}`] },
    });
    out.push({
      cls: 'Msvm_EthernetPortAllocationSettingData',
      props: {
        InstanceID: `${port}\\C`, ElementName: 'Dynamic Ethernet Switch Port', ResourceType: '33', ResourceSubType: 'Microsoft:Hyper-V:Ethernet Connection', EnabledState: '2',
        Parent: objectPath(host, 'Msvm_SyntheticEthernetPortSettingData', { InstanceID: port }),
        HostResource: [objectPath(host, 'Msvm_VirtualEthernetSwitch', { CreationClassName: 'Msvm_VirtualEthernetSwitch', Name: switches.get(n.switchName) ?? n.switchName })],
      },
    });
  }
  return out;
}

/** Every instance `host` serves, in a stable order. */
export function hostInstances(w: World, host: string): Instance[] {
  const out: Instance[] = [{
    cls: 'Msvm_ComputerSystem',
    props: { Caption: 'Hosting Computer System', Description: 'Microsoft Hosting Computer System', ElementName: host, CreationClassName: 'Msvm_ComputerSystem', Name: host, EnabledState: '2', HealthState: '5' },
  }];
  for (const [name, id] of w.switches) out.push({ cls: 'Msvm_VirtualEthernetSwitch', props: { CreationClassName: 'Msvm_VirtualEthernetSwitch', Name: id, ElementName: name, EnabledState: '2' } });
  out.push(svc(host, 'Msvm_VirtualSystemManagementService', 'vmms'));
  out.push(svc(host, 'Msvm_VirtualSystemSnapshotService', 'vssnapshotservice'));
  out.push(svc(host, 'Msvm_VirtualSystemMigrationService', 'vsmigrationservice'));
  for (const vm of w.vms) if (vm.host === host) out.push(...vmInstances(host, vm, w.switches));
  for (const j of w.jobs.values()) {
    if (j.host !== host) continue;
    out.push({
      cls: 'Msvm_ConcreteJob',
      props: {
        InstanceID: j.id, Caption: j.description, Description: j.description, ElementName: j.description, JobState: String(j.state), PercentComplete: String(j.percent),
        ErrorCode: String(j.errorCode), ErrorDescription: j.errorDescription || null, ErrorSummaryDescription: j.errorDescription || null,
        JobStatus: j.state === JOB_STATE.Completed ? 'Job completed successfully' : j.state === JOB_STATE.Exception ? 'Job failed' : 'Job is running',
        JobType: String(j.type), StartTime: cimDate(j.started), Cancellable: 'true', DeleteOnCompletion: 'false',
      },
    });
  }
  return out;
}
