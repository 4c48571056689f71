/** What the Hyper-V driver can do over WMI v2 (docs/drivers-hyperv.md says how and why not). Tested against a simulator only. */
import { matrix, no, yes, type CapabilityMatrix } from '../capabilities.js';

export const HYPERV_DRIVER_NAME = 'hyperv';

export const HYPERV_CAPABILITIES: CapabilityMatrix = matrix({
  'power.start': yes('RequestStateChange 2, job followed'),
  'power.stop': yes('RequestStateChange 4 (shut down through the guest\'s integration service)'),
  'power.kill': yes('RequestStateChange 3 (turn off)'),
  'power.pause': yes('RequestStateChange 9, resume with 2'),
  'power.suspend': yes('RequestStateChange 6: the Saved state; the next start restores RAM'),
  'power.reboot': yes('RequestStateChange 11 (reset)'),
  'console.serial': no('Hyper-V exposes COM ports as named pipes on the host only; not reachable over WinRM'),
  'console.graphical': no('Hyper-V consoles are VMConnect/RDP sessions; not built'),
  'snapshot.create': yes('checkpoints: CreateSnapshot, then named with ModifySystemSettings'),
  'snapshot.memory': no('checkpoints are taken and listed without RAM; applying a standard checkpoint gives a Saved VM, which is not mapped'),
  'snapshot.tree': yes('checkpoint settings name their parent; the VM\'s settings name the current one'),
  'snapshot.revert': yes('ApplySnapshot on a VM that is off or saved'),
  'snapshot.delete': yes('DestroySnapshot (Hyper-V merges the checkpoint)'),
  backup: no('not built'),
  'migrate.live': yes('MigrateVirtualSystemToHost to a peer host of the endpoint, job followed with progress'),
  'move.toLocal': yes('ExportSystemDefinition into a share this host mounts (exportDir/exportLocal), VHDX converted to qcow2'),
  'move.fromLocal': no('would need ImportSystemDefinition of a config written for Hyper-V; not built'),
  reconfigure: yes('ModifyResourceSettings of processor and memory settings of a VM that is off'),
  clone: no('Hyper-V has no clone; an export and import copy is not built'),
  hotplug: no('not built'),
  import: yes('from VHDX / Hyper-V export files (polyvisor import)'),
  export: yes('to VHDX / Hyper-V export files (polyvisor export)'),
  metrics: no('GetSummaryInformation and the Hyper-V performance counters are not read'),
  events: no('WS-Eventing subscriptions are not built; the inventory polls'),
});
