/**
 * Hypervisors no server of which can run here (Hyper-V, XCP-ng): Polyvisor
 * reaches them through their file formats (the interchange work: VHDX and
 * Hyper-V configs, XVA/OVA), not as live endpoints. Their rows say so, with
 * every live capability refused, so nobody is led to think otherwise.
 */
import { matrix, no, yes, type CapabilityMatrix } from './capabilities.js';
import type { DriverRow } from './registry.js';

const filesOnly = (what: string, formats: string): CapabilityMatrix => matrix({
  'power.start': no(`no ${what} server can run here: not a live endpoint`),
  import: yes(`from ${formats} files (polyvisor import)`),
  export: yes(`to ${formats} files (polyvisor export)`),
});

export const FILE_FORMAT_DRIVERS: readonly DriverRow[] = [
  { name: 'hyperv', title: 'Microsoft Hyper-V, through its file formats (VHDX disks, exported VM configs)', live: false, urlExample: '(none: files only)', capabilities: filesOnly('Hyper-V', 'VHDX / Hyper-V export') },
];
