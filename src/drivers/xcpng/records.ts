/** The XAPI record fields the driver reads (datamodel_vm.ml and datamodel.ml name them). */
export type Ref = string;

export const NULL_REF = 'OpaqueRef:NULL';

export interface VmRecord {
  uuid: string;
  name_label: string;
  name_description: string;
  power_state: 'Halted' | 'Paused' | 'Running' | 'Suspended' | string;
  is_a_template: boolean;
  is_control_domain: boolean;
  is_a_snapshot: boolean;
  snapshot_of: Ref;
  snapshots: Ref[];
  snapshot_time: string;
  parent: Ref;
  resident_on: Ref;
  memory_static_max: number | string;
  memory_static_min: number | string;
  memory_dynamic_max: number | string;
  VCPUs_max: number | string;
  VCPUs_at_startup: number | string;
  HVM_boot_policy: string;
  HVM_boot_params: Record<string, string>;
  PV_bootloader: string;
  PV_kernel: string;
  platform: Record<string, string>;
  VBDs: Ref[];
  VIFs: Ref[];
  metrics: Ref;
  guest_metrics: Ref;
  other_config: Record<string, string>;
  current_operations: Record<string, string>;
}

export interface VbdRecord {
  VM: Ref;
  VDI: Ref;
  device: string;
  userdevice: string;
  bootable: boolean;
  mode: string;
  type: 'Disk' | 'CD' | 'Floppy' | string;
  empty: boolean;
}

export interface VdiRecord {
  uuid: string;
  name_label: string;
  SR: Ref;
  virtual_size: number | string;
  location: string;
  read_only: boolean;
}

export interface VifRecord {
  device: string;
  MAC: string;
  network: Ref;
}

export interface NamedRecord {
  uuid: string;
  name_label: string;
}

/** XAPI ints arrive as JSON numbers (or strings of digits from some servers). */
export const int = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : 0);
