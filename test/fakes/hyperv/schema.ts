/**
 * The excerpt of Hyper-V's WMI v2 schema (namespace root\virtualization\v2)
 * the fake serves, class by class: the properties and methods it models, no
 * others. Sources:
 *  - Microsoft's "Hyper-V WMI provider (V2)" class reference
 *    (https://learn.microsoft.com/en-us/windows/win32/hyperv_v2/hyper-v-wmi-classes-v2):
 *    Msvm_ComputerSystem (EnabledState / RequestStateChange values),
 *    Msvm_VirtualSystemSettingData (VirtualSystemType, VirtualSystemSubType
 *    "Microsoft:Hyper-V:SubType:1"/":2" for Generation 1/2, Parent),
 *    Msvm_ConcreteJob (JobState, PercentComplete, ErrorCode), and the method
 *    pages of Msvm_VirtualSystemManagementService, …SnapshotService and
 *    …MigrationService (parameter names, return codes 0 / 4096 / 32768+).
 *  - libvirt's src/hyperv/hyperv_wmi_generator.input (the MOF-derived
 *    property lists libvirt's Hyper-V driver is generated from; the property
 *    names below are checked against it where libvirt lists the class).
 * Every instance the fake serves is checked against this table (`problems`).
 */

export const V2_NS = 'root/virtualization/v2';
export const RESOURCE_BASE = `http://schemas.microsoft.com/wbem/wsman/1/wmi/${V2_NS}`;

export interface ClassExcerpt {
  /** Key properties: the selectors of an endpoint reference. */
  keys: string[];
  properties: string[];
  /** Method → input parameter names (outputs: ReturnValue, Job and those named in `out`). */
  methods?: Record<string, { in: string[]; out?: string[] }>;
}

const RASD = ['InstanceID', 'Caption', 'ElementName', 'ResourceType', 'ResourceSubType', 'OtherResourceType', 'HostResource', 'Parent', 'Address', 'AddressOnParent', 'VirtualQuantity', 'VirtualQuantityUnits', 'AllocationUnits', 'Reservation', 'Limit', 'Weight'];

export const CLASSES: Record<string, ClassExcerpt> = {
  Msvm_ComputerSystem: {
    keys: ['CreationClassName', 'Name'],
    properties: ['Caption', 'Description', 'ElementName', 'InstallDate', 'EnabledState', 'RequestedState', 'HealthState', 'OnTimeInMilliseconds', 'CreationClassName', 'Name', 'ProcessID', 'NumberOfNumaNodes', 'TimeOfLastStateChange', 'EnhancedSessionModeState'],
    methods: { RequestStateChange: { in: ['RequestedState', 'TimeoutPeriod'] } },
  },
  Msvm_VirtualSystemSettingData: {
    keys: ['InstanceID'],
    properties: ['InstanceID', 'Caption', 'Description', 'ElementName', 'VirtualSystemIdentifier', 'VirtualSystemType', 'VirtualSystemSubType', 'Notes', 'CreationTime', 'ConfigurationID', 'ConfigurationDataRoot', 'SnapshotDataRoot', 'Parent', 'IsSaved', 'Version', 'SecureBootEnabled', 'BootSourceOrder'],
  },
  Msvm_MemorySettingData: { keys: ['InstanceID'], properties: [...RASD, 'DynamicMemoryEnabled', 'TargetMemoryBuffer'] },
  Msvm_ProcessorSettingData: { keys: ['InstanceID'], properties: [...RASD, 'LimitCPUID', 'LimitProcessorFeatures'] },
  /** Controllers (IDE 5, SCSI 6) and drives (17 synthetic disk drive, 16 DVD drive). */
  Msvm_ResourceAllocationSettingData: { keys: ['InstanceID'], properties: RASD },
  /** The virtual hard disk file in a drive: ResourceType 31, HostResource[0] its path. */
  Msvm_StorageAllocationSettingData: { keys: ['InstanceID'], properties: ['InstanceID', 'Caption', 'ElementName', 'ResourceType', 'ResourceSubType', 'HostResource', 'Parent', 'Address'] },
  Msvm_SyntheticEthernetPortSettingData: { keys: ['InstanceID'], properties: [...RASD, 'StaticMacAddress', 'VirtualSystemIdentifiers'] },
  /** The connection of a port to a switch: HostResource[0] is the switch's path. */
  Msvm_EthernetPortAllocationSettingData: { keys: ['InstanceID'], properties: ['InstanceID', 'Caption', 'ElementName', 'ResourceType', 'ResourceSubType', 'HostResource', 'Parent', 'EnabledState'] },
  Msvm_VirtualEthernetSwitch: { keys: ['CreationClassName', 'Name'], properties: ['CreationClassName', 'Name', 'ElementName', 'EnabledState'] },
  Msvm_ConcreteJob: {
    keys: ['InstanceID'],
    properties: ['InstanceID', 'Caption', 'Description', 'ElementName', 'JobState', 'PercentComplete', 'ErrorCode', 'ErrorDescription', 'ErrorSummaryDescription', 'JobStatus', 'JobType', 'StartTime', 'ElapsedTime', 'Cancellable', 'DeleteOnCompletion'],
  },
  Msvm_VirtualSystemManagementService: {
    keys: ['CreationClassName', 'Name', 'SystemCreationClassName', 'SystemName'],
    properties: ['CreationClassName', 'Name', 'SystemCreationClassName', 'SystemName', 'ElementName', 'EnabledState'],
    methods: {
      ModifyResourceSettings: { in: ['ResourceSettings'], out: ['ResultingResourceSettings'] },
      ModifySystemSettings: { in: ['SystemSettings'] },
      ExportSystemDefinition: { in: ['ComputerSystem', 'ExportDirectory', 'ExportSettingData'] },
    },
  },
  Msvm_VirtualSystemSnapshotService: {
    keys: ['CreationClassName', 'Name', 'SystemCreationClassName', 'SystemName'],
    properties: ['CreationClassName', 'Name', 'SystemCreationClassName', 'SystemName', 'ElementName', 'EnabledState'],
    methods: {
      CreateSnapshot: { in: ['AffectedSystem', 'SnapshotSettings', 'SnapshotType'], out: ['ResultingSnapshot'] },
      ApplySnapshot: { in: ['Snapshot'] },
      DestroySnapshot: { in: ['AffectedSnapshot'] },
    },
  },
  Msvm_VirtualSystemMigrationService: {
    keys: ['CreationClassName', 'Name', 'SystemCreationClassName', 'SystemName'],
    properties: ['CreationClassName', 'Name', 'SystemCreationClassName', 'SystemName', 'ElementName', 'EnabledState'],
    methods: { MigrateVirtualSystemToHost: { in: ['ComputerSystem', 'DestinationHost', 'MigrationSettingData', 'NewSystemSettingData', 'NewResourceSettingData'] } },
  },
};

/** Msvm_ComputerSystem.EnabledState (and RequestStateChange's RequestedState) values of the v2 namespace. */
export const ENABLED_STATE = { Running: 2, Off: 3, ShuttingDown: 4, Saved: 6, Paused: 9, Starting: 10, Reset: 11, Saving: 32773, Pausing: 32776, Resuming: 32777 } as const;

/** Method return values: 0 done, 4096 a job was started, 32768 and up failures. */
export const RETURN = { Completed: 0, JobStarted: 4096, Failed: 32768, AccessDenied: 32769, NotSupported: 32770, InvalidParameter: 32773, InvalidState: 32775, IncorrectType: 32776 } as const;

/** Msvm_ConcreteJob.JobState. */
export const JOB_STATE = { New: 2, Starting: 3, Running: 4, Completed: 7, Terminated: 8, Killed: 9, Exception: 10 } as const;

/** Property names an instance of `cls` may carry that the excerpt lacks. */
export function unknownProperties(cls: string, props: Iterable<string>): string[] {
  const c = CLASSES[cls];
  if (!c) return [`class ${cls}`];
  return [...props].filter((p) => !c.properties.includes(p) && !c.keys.includes(p));
}
