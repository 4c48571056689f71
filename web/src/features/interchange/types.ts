/** The answers of the interchange routes (docs/api.md), as the API's view types: types only. */
export type { ConfigExportView, FileImportView, MappingWarningView } from '../../../../src/spec/interchange-views.js';

/** The formats `POST /v1/vms/:name/export-config` writes, with what each holds (docs/interchange.md). */
export const EXPORT_FORMATS: ReadonlyArray<{ id: string; label: string; what: string }> = [
  { id: 'ova', label: 'OVA', what: 'one tar: OVF descriptor, manifest, streamOptimized VMDK (VMware, VirtualBox, Proxmox VE, virt-v2v)' },
  { id: 'ovf', label: 'OVF', what: 'a folder: OVF descriptor, manifest, streamOptimized VMDK' },
  { id: 'vmx', label: 'VMware .vmx', what: 'a .vmx and monolithic sparse VMDK (Workstation, ESXi)' },
  { id: 'vbox', label: 'VirtualBox .vbox', what: 'machine XML and VDI disks' },
  { id: 'hyperv', label: 'Hyper-V', what: 'a New-VM PowerShell script and VHDX disks' },
  { id: 'libvirt', label: 'libvirt XML', what: 'domain XML and qcow2 disks (virsh define)' },
  { id: 'proxmox', label: 'Proxmox VE', what: 'a qemu-server .conf and qcow2 disks' },
];
