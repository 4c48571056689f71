/**
 * A Hyper-V PowerShell provisioning script (New-VM, Set-VMProcessor,
 * Set-VMMemory, Add-VMHardDiskDrive, Add-VMNetworkAdapter, Add-VMDvdDrive,
 * Set-VMFirmware …) → an ImportPlan. The script is read as data by
 * ps-tokens.ts, never run; a value it cannot know (an expression, a variable
 * not assigned a literal) is a warning naming the line. Pure.
 */
import { fail } from '../shared/index.js';
import type { VmSpecInput } from '../spec/index.js';
import { mapHypervDrives, type HypervDrive } from './hyperv-disks.js';
import { importName, macOf, specNameOf, memoryText, nicModelFor, Warnings } from './map-helpers.js';
import { isUnknown, readPowerShell, type PsCommand, type PsValue } from './ps-tokens.js';
import type { ImportPlan, ReadOptions } from './types.js';

/** Cmdlets that change nothing the spec holds (or only read state). */
const QUIET = /^(Get|Start|Stop|Write|Test|Import|Export|Out|Select|Where|ForEach|Format|Join|Split|Wait|Connect|Checkpoint|Enable-VMIntegrationService|Disable-VMIntegrationService|Add-VMScsiController|New-Item|Remove-Item|Copy-Item|New-VMSwitch|Set-Location|Set-StrictMode|Set-ExecutionPolicy)(-|$)/i;

interface Nic { name: string; legacy: boolean; mac?: string; source: string }

export function readHypervScript(text: string, o: ReadOptions): ImportPlan {
  const cmds = readPowerShell(text);
  const newVm = cmds.find((c) => c.name.toLowerCase() === 'new-vm');
  if (newVm === undefined) fail('INTERCHANGE_INVALID', 'the PowerShell script has no New-VM command, so it does not describe a Hyper-V VM');
  const w = new Warnings();
  const src = (c: PsCommand, p?: string): string => `line ${c.line}: ${c.name}${p === undefined ? '' : ` -${p}`}`;
  const get = (c: PsCommand, p: string): PsValue | undefined => {
    const v = c.params.get(p.toLowerCase());
    if (isUnknown(v)) {
      w.add(src(c, p), `the value ${v.unknown} is not a literal the reader can know; it is left out`);
      return undefined;
    }
    return v;
  };
  const num = (c: PsCommand, p: string): number | undefined => {
    const v = get(c, p);
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : Number(v);
    if (!Number.isFinite(n) || n < 0) fail('INTERCHANGE_INVALID', `${src(c, p)}: ${String(v)} is not a number`);
    return n;
  };
  const str = (c: PsCommand, p: string): string | undefined => {
    const v = get(c, p);
    return v === undefined || typeof v === 'boolean' ? undefined : String(v);
  };

  const rawName = str(newVm, 'Name') ?? (typeof newVm.positional[0] === 'string' ? newVm.positional[0] : undefined);
  const name = importName(rawName, o.name, w, src(newVm, 'Name'));
  const generation = num(newVm, 'Generation') ?? 1;
  if (generation !== 1 && generation !== 2) fail('INTERCHANGE_INVALID', `${src(newVm, 'Generation')}: ${generation} is neither 1 nor 2`);
  let memory = num(newVm, 'MemoryStartupBytes') ?? 512 * 1024 ** 2;
  let cpus = 1;
  let secureBoot = generation === 2 ? true : undefined; // Hyper-V's default for generation 2
  const drives: HypervDrive[] = [];
  const sizes = new Map<string, number>();
  const nics: Nic[] = [{ name: 'Network Adapter', legacy: false, source: src(newVm) }]; // New-VM always adds one
  const newDisks: Array<{ path: string; size: number; source: string }> = [];
  const nextLocation = (controller: 'IDE' | 'SCSI'): { controllerNumber: number; location: number } => {
    const used = drives.filter((d) => d.controller === controller).length;
    return controller === 'IDE' ? { controllerNumber: Math.floor(used / 2), location: used % 2 } : { controllerNumber: 0, location: used };
  };
  const defaultController = generation === 2 ? 'SCSI' : 'IDE';

  const vhd = str(newVm, 'VHDPath');
  if (vhd !== undefined) drives.push({ kind: 'hdd', controller: defaultController, ...nextLocation(defaultController), path: vhd, source: src(newVm, 'VHDPath') });
  const newVhd = str(newVm, 'NewVHDPath');
  if (newVhd !== undefined) newDisks.push({ path: newVhd, size: num(newVm, 'NewVHDSizeBytes') ?? 127 * 1024 ** 3, source: src(newVm, 'NewVHDPath') });
  const sw = str(newVm, 'SwitchName');
  if (sw !== undefined) w.add(src(newVm, 'SwitchName'), `the virtual switch ${sw} is not kept: the NIC uses user-mode networking`);
  for (const p of ['SwitchName', 'BootDevice', 'Path', 'NoVHD', 'NewVHDSizeBytes', 'Name', 'Generation', 'MemoryStartupBytes', 'VHDPath', 'NewVHDPath', 'Version', 'Force', 'ErrorAction']) newVm.params.delete(p.toLowerCase());
  noteOthers(newVm, w, src);

  for (const c of cmds) {
    if (c === newVm) continue;
    const lc = c.name.toLowerCase();
    if (lc === 'set-vmprocessor') cpus = num(c, 'Count') ?? cpus;
    else if (lc === 'set-vm') {
      cpus = num(c, 'ProcessorCount') ?? cpus;
      memory = num(c, 'MemoryStartupBytes') ?? memory;
      if (get(c, 'DynamicMemory') === true) w.add(src(c, 'DynamicMemory'), 'dynamic memory is not kept: the VM gets its startup memory fixed');
    } else if (lc === 'set-vmmemory') {
      memory = num(c, 'StartupBytes') ?? memory;
      if (get(c, 'DynamicMemoryEnabled') === true) w.add(src(c, 'DynamicMemoryEnabled'), 'dynamic memory is not kept: the VM gets its startup memory fixed');
    } else if (lc === 'new-vhd') {
      const p = str(c, 'Path');
      const size = num(c, 'SizeBytes');
      if (p !== undefined && size !== undefined) sizes.set(p.toLowerCase(), size);
    } else if (lc === 'add-vmharddiskdrive' || lc === 'add-vmdvddrive') {
      const kind = lc === 'add-vmdvddrive' ? 'dvd' : 'hdd';
      const ct = str(c, 'ControllerType')?.toUpperCase();
      const controller = ct === 'SCSI' || ct === 'IDE' ? ct : kind === 'dvd' && generation === 1 ? 'IDE' : defaultController;
      const at = nextLocation(controller);
      const path = str(c, 'Path') ?? '';
      if (kind === 'hdd' && path === '') { w.add(src(c), 'a hard disk drive without a -Path is not kept'); continue; }
      const size = sizes.get(path.toLowerCase());
      if (kind === 'hdd' && size !== undefined) newDisks.push({ path, size, source: src(c, 'Path') });
      else drives.push({ kind, controller, controllerNumber: num(c, 'ControllerNumber') ?? at.controllerNumber, location: num(c, 'ControllerLocation') ?? at.location, path, source: src(c, 'Path') });
    } else if (lc === 'set-vmdvddrive') {
      const path = str(c, 'Path');
      const dvd = drives.find((d) => d.kind === 'dvd');
      if (dvd && path !== undefined) dvd.path = path;
    } else if (lc === 'add-vmnetworkadapter') {
      const mac = str(c, 'StaticMacAddress');
      nics.push({ name: str(c, 'Name') ?? `Network Adapter ${nics.length}`, legacy: get(c, 'IsLegacy') === true, ...(mac ? { mac } : {}), source: src(c) });
      if (str(c, 'SwitchName')) w.add(src(c, 'SwitchName'), `the virtual switch ${str(c, 'SwitchName')} is not kept: the NIC uses user-mode networking`);
    } else if (lc === 'set-vmnetworkadapter') {
      const mac = str(c, 'StaticMacAddress');
      const nm = str(c, 'Name');
      const nic = nm === undefined ? nics[0] : nics.find((n) => n.name === nm);
      if (nic && mac) nic.mac = mac;
    } else if (lc === 'remove-vmnetworkadapter') {
      const nm = str(c, 'Name');
      for (let k = nics.length - 1; k >= 0; k--) if (nm === undefined || nics[k]!.name === nm) nics.splice(k, 1);
    } else if (lc === 'set-vmfirmware') {
      const sb = get(c, 'EnableSecureBoot');
      if (sb !== undefined) secureBoot = String(sb).toLowerCase() === 'on' || sb === true;
      if (get(c, 'SecureBootTemplate') !== undefined) w.add(src(c, 'SecureBootTemplate'), 'the secure boot template is not kept (OVMF enrolls Microsoft\'s keys)');
      if (get(c, 'FirstBootDevice') !== undefined) w.add(src(c, 'FirstBootDevice'), 'the first boot device is not kept: the VM boots from its first disk, then CD-ROM');
    } else if (!QUIET.test(c.name) && /-VM|VHD/i.test(c.name)) w.add(src(c), `${c.name} is not kept`);
  }
  if (generation === 1 && secureBoot !== undefined) w.add('Set-VMFirmware', 'secure boot is not kept: a generation 1 VM boots BIOS');

  const { disks, files } = mapHypervDrives(drives, o, w);
  newDisks.forEach((d, k) => {
    disks.push({ name: `new${k}`, size: Math.max(d.size, 1024 ** 2), format: 'qcow2', bus: o.virtio === true ? 'virtio' : generation === 2 ? 'scsi' : 'ide' });
    w.add(d.source, `the new disk ${d.path} (${d.size} bytes) is created empty`);
  });
  const networks = nics.map((n, k) => {
    const mac = macOf(n.mac);
    if (n.mac !== undefined && mac === undefined) w.add(n.source, `the MAC ${n.mac} is not a MAC address; a new one is chosen`);
    return { name: specNameOf(n.name, '') === n.name && !nics.slice(0, k).some((o2) => o2.name === n.name) ? n.name : `net${k}`, model: nicModelFor(n.legacy ? 'dec21140' : 'hyperv-netvsc', o, w, n.source, n.legacy ? 'e1000' : 'virtio'), ...(mac ? { mac } : {}) };
  });
  if (memory < 16 * 1024 ** 2 || memory > 4 * 1024 ** 4) fail('INTERCHANGE_INVALID', `the startup memory ${memory} bytes is out of range`);
  if (!Number.isSafeInteger(cpus) || cpus < 1 || cpus > 256) fail('INTERCHANGE_INVALID', `the processor count ${cpus} is not 1-256`);
  const spec: VmSpecInput = {
    name,
    cpu: { count: cpus },
    memory: memoryText(memory),
    machine: { type: generation === 2 ? 'q35' : 'pc' },
    boot: { firmware: generation === 2 ? 'uefi' : 'bios', ...(generation === 2 && secureBoot !== undefined ? { secureBoot } : {}) },
    disks,
    networks,
  };
  return { format: 'hyperv', spec, disks: files, warnings: w.list };
}

function noteOthers(c: PsCommand, w: Warnings, src: (c: PsCommand, p?: string) => string): void {
  for (const p of c.params.keys()) w.add(src(c, p), `New-VM -${p} is not kept`);
}
