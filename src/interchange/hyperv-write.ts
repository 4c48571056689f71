/**
 * VmSpec → a Hyper-V PowerShell script (`NAME.ps1`) that creates the VM from
 * the disks beside it: New-VM (generation 2 for UEFI, 1 for BIOS),
 * Set-VMProcessor, Set-VMMemory, Set-VMFirmware, Add-VMHardDiskDrive,
 * Add-VMDvdDrive, Add-VMNetworkAdapter with static MACs. Every value is a
 * single-quoted literal (no user text is ever code). Pure; hyperv-script-read.ts
 * reads the output back.
 */
import { commonLossy } from './export-lossy.js';
import { macHyperv, Warnings } from './map-helpers.js';
import type { ExportInput, ExportResult } from './types.js';

/** A PowerShell single-quoted literal: '' is the only escape. */
export const psQuote = (s: string): string => `'${s.replace(/['\u2018\u2019\u201a\u201b]/g, "''")}'`;

/** "$PSScriptRoot\FILE" with FILE's `, $ and " escaped (a path beside the script). */
const besideScript = (file: string): string => `"$PSScriptRoot\\${file.replace(/[`$"\u201c\u201d\u201e]/g, '`$&')}"`;

const TWO_MIB = 2 * 1024 * 1024;

export function writeHyperv(input: ExportInput): ExportResult {
  const { spec } = input;
  const w = new Warnings();
  const gen = spec.boot.firmware === 'uefi' ? 2 : 1;
  commonLossy(spec, w);
  let memory = spec.memory;
  if (memory % TWO_MIB !== 0) {
    memory = Math.ceil(memory / TWO_MIB) * TWO_MIB;
    w.add('memory', `Hyper-V wants memory in 2 MiB steps: ${spec.memory} bytes become ${memory}`);
  }
  if (gen === 1 && spec.machine.type === 'q35') w.add('machine.type', 'a BIOS VM becomes Hyper-V generation 1 (an i440BX-like machine, read back as pc)');
  if (gen === 2 && spec.machine.type === 'pc') w.add('machine.type', 'a UEFI VM becomes Hyper-V generation 2 (read back as q35)');
  if (spec.serial.enabled) w.add('serial', 'the serial console is not kept (Set-VMComPort needs a named pipe on the Hyper-V host)');
  if (spec.display.video !== undefined) w.add('display.video', `the video card ${spec.display.video} becomes Hyper-V's synthetic video`);
  if (spec.scsiController !== undefined) w.add('scsiController', `the SCSI controller ${spec.scsiController} becomes Hyper-V's synthetic SCSI controller`);

  const lines = [
    `# Hyper-V configuration of the VM ${JSON.stringify(spec.name)}, written by Polyvisor.`,
    '# Run it on the Hyper-V host from the folder holding it and its disks:',
    `#   powershell -ExecutionPolicy Bypass -File .\\${spec.name}.ps1`,
    "$ErrorActionPreference = 'Stop'",
    `$VMName = ${psQuote(spec.name)}`,
    `New-VM -Name $VMName -Generation ${gen} -MemoryStartupBytes ${memory} -NoVHD -Path $PSScriptRoot`,
    `Set-VMProcessor -VMName $VMName -Count ${spec.cpu.count}`,
    'Set-VMMemory -VMName $VMName -DynamicMemoryEnabled $false',
  ];
  if (gen === 2) lines.push(`Set-VMFirmware -VMName $VMName -EnableSecureBoot ${spec.boot.secureBoot === true ? 'On' : 'Off'}`);
  lines.push('Remove-VMNetworkAdapter -VMName $VMName');

  const files = new Map(input.disks.map((d) => [d.name, d]));
  let ide = 0;
  let scsi = 0;
  spec.disks.forEach((d, i) => {
    const onIde = gen === 1 && ide < 4 && (d.media === 'cdrom' || d.bus === 'ide' || d.bus === 'sata' || d.bus === 'virtio');
    const where = onIde ? `-ControllerType IDE -ControllerNumber ${Math.floor(ide / 2)} -ControllerLocation ${ide % 2}` : `-ControllerType SCSI -ControllerNumber 0 -ControllerLocation ${scsi}`;
    if (onIde) ide++;
    else scsi++;
    const wanted = onIde ? 'ide' : 'scsi';
    if (d.bus !== wanted && !(d.media === 'cdrom')) w.add(`disks[${i}].bus`, `the ${d.bus} disk ${d.name} goes on Hyper-V's ${wanted.toUpperCase()} controller`);
    if (gen === 1 && !onIde && i === 0) w.add(`disks[${i}]`, 'a generation 1 VM boots from IDE only, and its IDE controllers hold four drives');
    if (d.media === 'cdrom') {
      const where2 = gen === 1 && onIde ? where.replace('-ControllerType IDE ', '') : where.replace('-ControllerType SCSI ', '');
      lines.push(`Add-VMDvdDrive -VMName $VMName ${where2} -Path ${psQuote(d.path ?? '')}`);
      w.add(`disks[${i}].path`, `the CD-ROM's ISO ${d.path ?? ''} is named by this host's path: copy it to the Hyper-V host and fix the -Path`);
      return;
    }
    const f = files.get(d.name);
    if (f === undefined) throw new Error(`writeHyperv: no exported file for disk ${d.name}`);
    if (d.readOnly) w.add(`disks[${i}].readOnly`, 'read-only disks are not kept');
    lines.push(`Add-VMHardDiskDrive -VMName $VMName ${where} -Path ${besideScript(f.file)}`);
  });
  spec.networks.forEach((n, i) => {
    if (n.model !== 'virtio') w.add(`networks[${i}].model`, `the ${n.model} NIC becomes Hyper-V's synthetic network adapter`);
    lines.push(`Add-VMNetworkAdapter -VMName $VMName -Name ${psQuote(n.name)}${n.mac === undefined ? '' : ` -StaticMacAddress ${psQuote(macHyperv(n.mac))}`}`);
  });
  if (spec.networks.length === 0) lines.push('# (no network adapters)');
  return { files: [{ name: `${spec.name}.ps1`, content: `${lines.join('\r\n')}\r\n` }], warnings: w.list };
}
