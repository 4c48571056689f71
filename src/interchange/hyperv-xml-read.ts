/**
 * Hyper-V's exported machine configuration (the `Virtual Machines/GUID.xml` of
 * Export-VM on 2012 R2, and the same shape Packer and Vagrant write beside a
 * VMCX) → an ImportPlan. Generation 1 → BIOS on a pc machine with IDE;
 * generation 2 → UEFI on q35 with secure boot as the file says. Pure.
 */
import { fail } from '../shared/index.js';
import type { VmSpecInput } from '../spec/index.js';
import { mapHypervDrives, type HypervDrive } from './hyperv-disks.js';
import { importName, macOf, memoryText, nicModelFor, Warnings } from './map-helpers.js';
import { childEl, childText, parseForeignXml, walk, type XmlElement } from './safe-xml.js';
import type { ImportPlan, ReadOptions } from './types.js';

/** Children of <configuration> that carry nothing the spec lacks, or are read below. */
const QUIET = new Set(['properties', 'settings', 'AltSwitchName', 'boot', 'secure_boot_enabled', 'secure_boot_template', 'notes', 'vm-version', 'configuration_version']);

export function readHypervXml(text: string, o: ReadOptions): ImportPlan {
  const root = parseForeignXml(text, 'the Hyper-V configuration');
  if (root.name !== 'configuration') fail('INTERCHANGE_INVALID', `not a Hyper-V configuration (its root element is <${root.name}>, not <configuration>)`);
  const w = new Warnings();
  const props = childEl(root, 'properties');
  const settings = childEl(root, 'settings');
  const name = importName(childText(props, 'name'), o.name, w, 'configuration/properties/name');
  const subtype = childText(props, 'subtype') ?? '0';
  if (subtype !== '0' && subtype !== '1') fail('INTERCHANGE_INVALID', `configuration/properties/subtype ${subtype} is neither generation 1 (0) nor 2 (1)`);
  const gen2 = subtype === '1';

  const count = Number(childText(childEl(settings, 'processors'), 'count') ?? '1');
  if (!Number.isSafeInteger(count) || count < 1 || count > 256) fail('INTERCHANGE_INVALID', `configuration/settings/processors/count ${count} is not 1-256`);
  const bank = childEl(childEl(settings, 'memory'), 'bank');
  const sizeMb = Number(childText(bank, 'size') ?? '512');
  if (!Number.isSafeInteger(sizeMb) || sizeMb < 16 || sizeMb > 4 * 1024 * 1024) fail('INTERCHANGE_INVALID', `configuration/settings/memory/bank/size ${sizeMb} MB is out of range`);
  if (/^true$/i.test(childText(bank, 'dynamic_memory_enabled') ?? '')) {
    w.add('configuration/settings/memory/bank/dynamic_memory_enabled', `dynamic memory is not kept: the VM gets its startup memory (${sizeMb} MB) fixed`);
  }

  let secureBoot: boolean | undefined;
  const drives: HypervDrive[] = [];
  const networks: NonNullable<VmSpecInput['networks']> = [];
  walk(root, (e, path) => {
    if (e.name === 'secure_boot_enabled') secureBoot = /^true$/i.test(e.text.trim());
    if (/^controller\d+$/.test(e.name)) drives.push(...controllerDrives(e, path, rootChildOf(root, path)));
    if (childEl(e, 'Connection') !== undefined || (e.name.startsWith('_') && childEl(e, 'friendly_name') !== undefined && childText(e, 'address') !== undefined)) {
      const nic = readNic(e, path, networks.length, o, w);
      if (nic) networks.push(nic);
    }
  });
  const topSwitch = childText(root, 'AltSwitchName');
  if (networks.length === 0 && topSwitch !== undefined) {
    // Packer's and Vagrant's short form: one adapter, named by its switch alone.
    networks.push({ name: 'net0', model: nicModelFor('hyperv-netvsc', o, w, 'configuration/AltSwitchName', 'virtio') });
    if (topSwitch !== '') w.add('configuration/AltSwitchName', `the virtual switch ${JSON.stringify(topSwitch)} is not kept: the NIC uses user-mode networking (attach it to a Polyvisor network after import)`);
  }
  for (const c of root.children) {
    if (!QUIET.has(c.name) && !c.name.startsWith('_')) w.add(`configuration/${c.name}`, `<${c.name}> is not kept`);
  }
  const boot = childText(childEl(root, 'boot'), 'device0');
  if (boot !== undefined && boot !== 'HardDrive' && boot !== 'Default') w.add('configuration/boot/device0', `the boot device ${boot} is not kept: the VM boots from its first disk, then CD-ROM`);
  const { disks, files } = mapHypervDrives(drives, o, w);
  if (secureBoot === true && !gen2) w.add('secure_boot_enabled', 'secure boot is not kept: a generation 1 VM boots BIOS');
  const spec: VmSpecInput = {
    name,
    cpu: { count },
    memory: memoryText(sizeMb * 1024 * 1024),
    machine: { type: gen2 ? 'q35' : 'pc' },
    boot: { firmware: gen2 ? 'uefi' : 'bios', ...(gen2 && secureBoot !== undefined ? { secureBoot } : {}) },
    disks,
    networks,
  };
  const notes = childText(root, 'notes') ?? childText(settings, 'notes');
  if (notes !== undefined && notes !== '') spec.description = notes.slice(0, 1024);
  return { format: 'hyperv', spec, disks: files, warnings: w.list };
}

/** The top-level element a path lies under (Hyper-V keeps IDE and SCSI controllers under GUID-named elements). */
function rootChildOf(root: XmlElement, path: string): XmlElement | undefined {
  const top = path.split('/')[1];
  return root.children.find((c) => c.name === top);
}

function controllerDrives(ctrl: XmlElement, path: string, parent: XmlElement | undefined): HypervDrive[] {
  const scsi = childEl(parent, 'ChannelInstanceGuid') !== undefined;
  const controllerNumber = Number(/\d+$/.exec(ctrl.name)![0]);
  const out: HypervDrive[] = [];
  for (const d of ctrl.children) {
    if (!/^drive\d+$/.test(d.name)) continue;
    const type = (childText(d, 'type') ?? '').toUpperCase();
    if (type === 'NONE' || type === '') continue;
    const kind = type === 'ISO' || type === 'DVD' ? 'dvd' : 'hdd';
    out.push({ kind, controller: scsi ? 'SCSI' : 'IDE', controllerNumber, location: Number(/\d+$/.exec(d.name)![0]), path: childText(d, 'pathname') ?? '', source: `${path}/${d.name}` });
  }
  return out;
}

type SpecNic = NonNullable<VmSpecInput['networks']>[number];

function readNic(e: XmlElement, path: string, index: number, o: ReadOptions, w: Warnings): SpecNic | undefined {
  const synthetic = childEl(e, 'ChannelInstanceGuid') !== undefined;
  const model = nicModelFor(synthetic ? 'hyperv-netvsc' : 'dec21140', o, w, path, synthetic ? 'virtio' : 'e1000');
  const rawMac = childText(e, 'address') ?? childText(e, 'mac_address') ?? childText(e, 'MacAddress');
  const mac = macOf(rawMac);
  const sw = childText(childEl(e, 'Connection'), 'AltSwitchName');
  if (sw !== undefined && sw !== '') w.add(`${path}/Connection/AltSwitchName`, `the virtual switch ${JSON.stringify(sw)} is not kept: the NIC uses user-mode networking (attach it to a Polyvisor network after import)`);
  return { name: `net${index}`, model, ...(mac ? { mac } : {}) };
}
