/**
 * VmSpec → an OVF 1.0 descriptor in the shape VMware's ovftool writes (what
 * ESXi, vCenter, VirtualBox and virt-v2v read): References, DiskSection
 * (streamOptimized VMDK), NetworkSection ("VM Network"), one VirtualSystem
 * with OperatingSystemSection (CIM id + vmw:osType) and a vmx-13
 * VirtualHardwareSection whose Items follow RASD's alphabetical element
 * order, vmw:CoresPerSocket, vmw:Config firmware and secure boot. Devices
 * vSphere lacks become their nearest VMware device, each with a warning.
 * Pure; ovf-read.ts reads the output back.
 */
import type { VmSpec } from '../spec/index.js';
import { Warnings } from './map-helpers.js';
import { CIM_OF_OS } from './ovf-units.js';
import type { ExportDisk, ExportInput, ExportResult } from './types.js';
import { vmwareBus, vmwareLossy, type VmwareBus } from './vmware-map.js';
import { xel, xmlDocument, xtext, type XmlOut } from './xml-write.js';

const NS: Array<readonly [string, string]> = [
  ['xmlns', 'http://schemas.dmtf.org/ovf/envelope/1'],
  ['xmlns:cim', 'http://schemas.dmtf.org/wbem/wscim/1/common'],
  ['xmlns:ovf', 'http://schemas.dmtf.org/ovf/envelope/1'],
  ['xmlns:rasd', 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData'],
  ['xmlns:vmw', 'http://www.vmware.com/schema/ovf'],
  ['xmlns:vssd', 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData'],
  ['xmlns:xsi', 'http://www.w3.org/2001/XMLSchema-instance'],
];

const VMDK_FORMAT = 'http://www.vmware.com/interfaces/specifications/vmdk.html';
export const VM_NETWORK = 'VM Network';

const NIC_SUBTYPE: Record<VmSpec['networks'][number]['model'], string> = { e1000: 'E1000', e1000e: 'E1000e', vmxnet3: 'VmxNet3', virtio: 'VmxNet3', rtl8139: 'E1000' };
const SCSI_SUBTYPE: Record<NonNullable<VmSpec['scsiController']>, string> = {
  'virtio-scsi': 'VirtualSCSI', pvscsi: 'VirtualSCSI', lsilogic: 'lsilogic', lsisas1068: 'lsilogicsas', megasas: 'lsilogicsas',
};
/** VMware guest ids for a spec os type without a VMware variant. */
const GUEST_ID = { linux: 'otherLinux64Guest', windows: 'windows9_64Guest', other: 'otherGuest64' } as const;

/** RASD children in the schema's (alphabetical) order; undefined values are left out. */
function item(fields: Record<string, string | number | undefined>, extra: XmlOut[] = [], required?: boolean): XmlOut {
  const rasd = Object.keys(fields).sort().filter((k) => fields[k] !== undefined).map((k) => xtext(`rasd:${k}`, fields[k]!));
  return xel('Item', [['ovf:required', required === false ? 'false' : undefined]], [...rasd, ...extra]);
}

export function writeOvf(input: ExportInput): ExportResult {
  const { spec } = input;
  const w = new Warnings();
  vmwareLossy(spec, w, 'the serial console is not exported (a VMware serial port needs a backing chosen on the target)');
  const files: XmlOut[] = [];
  const diskDefs: XmlOut[] = [];
  const items: XmlOut[] = [];
  let id = 1;
  const cps = spec.cpu.cores * spec.cpu.threads;
  items.push(item({ AllocationUnits: 'hertz * 10^6', Description: 'Number of Virtual CPUs', ElementName: `${spec.cpu.count} virtual CPU(s)`, InstanceID: id++, ResourceType: 3, VirtualQuantity: spec.cpu.count },
    spec.cpu.sockets > 1 ? [xtext('vmw:CoresPerSocket', cps, [['ovf:required', 'false']])] : []));
  const mib = Math.ceil(spec.memory / 1024 ** 2);
  if (mib * 1024 ** 2 !== spec.memory) w.add('memory', `memory ${spec.memory} bytes becomes ${mib} MiB (OVF memory is in whole MiB here)`);
  items.push(item({ AllocationUnits: 'byte * 2^20', Description: 'Memory Size', ElementName: `${mib}MB of memory`, InstanceID: id++, ResourceType: 4, VirtualQuantity: mib }));

  // Controllers, created on first use, in the order VMware writes them.
  const controllers = new Map<string, { id: number; next: number }>();
  const controller = (bus: VmwareBus, index = 0): { id: number; next: number } => {
    const key = `${bus}${index}`;
    let c = controllers.get(key);
    if (c) return c;
    c = { id: id++, next: 0 };
    controllers.set(key, c);
    if (bus === 'ide') items.push(item({ Address: index, Description: `IDE Controller`, ElementName: `IDE ${index}`, InstanceID: c.id, ResourceType: 5 }));
    if (bus === 'sata') items.push(item({ Address: index, Description: 'SATA Controller', ElementName: `SATA controller ${index}`, InstanceID: c.id, ResourceSubType: 'vmware.sata.ahci', ResourceType: 20 }));
    if (bus === 'scsi') items.push(item({ Address: index, Description: 'SCSI Controller', ElementName: `SCSI controller ${index}`, InstanceID: c.id, ResourceSubType: SCSI_SUBTYPE[spec.scsiController ?? 'virtio-scsi'], ResourceType: 6 }));
    return c;
  };
  const scsiDisks = spec.disks.filter((d) => vmwareBus(d, 'ide') === 'scsi');
  if (scsiDisks.length > 0) {
    const ctl = spec.scsiController ?? 'virtio-scsi';
    if (ctl === 'virtio-scsi') w.add('scsiController', 'the virtio-scsi controller becomes VMware Paravirtual SCSI (pvscsi): Linux has its driver, Windows needs VMware Tools');
    if (ctl === 'megasas') w.add('scsiController', 'the MegaRAID controller becomes an LSI Logic SAS controller');
  }
  const diskByName = new Map<string, ExportDisk>(input.disks.map((d) => [d.name, d]));
  let fileNo = 1;
  let ideUsed = 0;
  spec.disks.forEach((d, i) => {
    const bus = vmwareBus(d, 'ide');
    if (d.media === 'disk' && d.bus === 'virtio') w.add(`disks[${i}].bus`, `the virtio disk ${d.name} goes on the SCSI controller (vSphere has no virtio-blk)`);
    if (d.bootIndex !== undefined) w.add(`disks[${i}].bootIndex`, 'the boot index is not kept: the VM boots from its first disk');
    if (d.readOnly && d.media === 'disk') w.add(`disks[${i}].readOnly`, 'a read-only disk is exported writable');
    let ctl: { id: number; next: number };
    if (bus === 'ide') {
      // Two IDE controllers of two devices each, as VMware has.
      if (ideUsed >= 4) {
        w.add(`disks[${i}]`, `${d.name} does not fit on VMware's four IDE places: it is not exported`);
        return;
      }
      ctl = controller('ide', Math.floor(ideUsed / 2));
      ideUsed++;
    } else ctl = controller(bus);
    const unit = ctl.next++ + (bus === 'scsi' && ctl.next > 7 ? 1 : 0); // SCSI unit 7 is the controller's own
    const exp = diskByName.get(d.name);
    if (d.media === 'cdrom') {
      let host = '';
      if (exp) {
        const fid = `file${fileNo++}`;
        files.push(xel('File', [['ovf:href', exp.file], ['ovf:id', fid], ['ovf:size', exp.fileSize]]));
        host = `ovf:/file/${fid}`;
      } else w.add(`disks[${i}]`, `the ISO of the CD-ROM ${d.name} is not exported: the drive is empty`);
      items.push(item({ AddressOnParent: unit, AutomaticAllocation: 'false', Description: 'CD-ROM', ElementName: `CD/DVD drive ${d.name}`, HostResource: host || undefined, InstanceID: id++, Parent: ctl.id, ResourceType: 15 }, [], false));
      return;
    }
    if (!exp) {
      w.add(`disks[${i}]`, `the disk ${d.name} has no exported file: it is left out`);
      return;
    }
    const fid = `file${fileNo++}`;
    const diskId = `vmdisk${fileNo - 1}`;
    files.push(xel('File', [['ovf:href', exp.file], ['ovf:id', fid], ['ovf:size', exp.fileSize]]));
    const mibUnits = exp.capacity % 1024 ** 2 === 0;
    diskDefs.push(xel('Disk', [
      ['ovf:capacity', mibUnits ? exp.capacity / 1024 ** 2 : exp.capacity],
      ['ovf:capacityAllocationUnits', mibUnits ? 'byte * 2^20' : 'byte'],
      ['ovf:diskId', diskId], ['ovf:fileRef', fid],
      ['ovf:format', exp.format === 'vmdk' ? `${VMDK_FORMAT}#streamOptimized` : exp.format],
    ]));
    items.push(item({ AddressOnParent: unit, ElementName: d.name, HostResource: `ovf:/disk/${diskId}`, InstanceID: id++, Parent: ctl.id, ResourceType: 17 }));
  });
  spec.networks.forEach((n, i) => {
    if (n.model === 'virtio') w.add(`networks[${i}].model`, 'the virtio NIC becomes a VMXNET3 (vSphere has no virtio-net)');
    if (n.model === 'rtl8139') w.add(`networks[${i}].model`, 'the RTL8139 NIC becomes an E1000 (vSphere has no RTL8139)');
    items.push(item({
      Address: n.mac, AddressOnParent: i + 7, AutomaticAllocation: 'true', Connection: VM_NETWORK, Description: `${NIC_SUBTYPE[n.model]} ethernet adapter on "${VM_NETWORK}"`,
      ElementName: n.name, InstanceID: id++, ResourceSubType: NIC_SUBTYPE[n.model], ResourceType: 10,
    }));
  });
  const video = spec.display.video;
  if (video !== undefined && video !== 'none') {
    if (video !== 'vmware') w.add('display.video', `the ${video} video card becomes VMware's SVGA on vSphere (the type is kept in the descriptor)`);
    items.push(item({ AutomaticAllocation: 'false', ElementName: 'Video card', InstanceID: id++, ResourceSubType: video === 'vmware' ? undefined : video, ResourceType: 24 }, [], false));
  }
  const efi = spec.boot.firmware === 'uefi';
  const configs = [
    xel('vmw:Config', [['ovf:required', 'false'], ['vmw:key', 'firmware'], ['vmw:value', efi ? 'efi' : 'bios']]),
    spec.boot.secureBoot === true && xel('vmw:Config', [['ovf:required', 'false'], ['vmw:key', 'uefi.secureBoot.enabled'], ['vmw:value', 'true']]),
  ];
  const osType = spec.os?.type ?? 'other';
  const variant = spec.os?.variant;
  const guestId = variant !== undefined && /^[A-Za-z0-9_-]+Guest$/.test(variant) ? variant : GUEST_ID[osType];
  const vs = xel('VirtualSystem', [['ovf:id', spec.name]], [
    xtext('Info', 'A virtual machine'),
    xtext('Name', spec.name),
    xel('OperatingSystemSection', [['ovf:id', CIM_OF_OS[osType]], ['vmw:osType', guestId]], [
      xtext('Info', 'The kind of installed guest operating system'),
      variant !== undefined && variant !== guestId && xtext('Description', variant),
    ]),
    xel('VirtualHardwareSection', [], [
      xtext('Info', 'Virtual hardware requirements'),
      xel('System', [], [
        xtext('vssd:ElementName', 'Virtual Hardware Family'),
        xtext('vssd:InstanceID', 0),
        xtext('vssd:VirtualSystemIdentifier', spec.name),
        xtext('vssd:VirtualSystemType', 'vmx-13'),
      ]),
      ...items,
      ...configs,
    ]),
    spec.description !== '' && xel('AnnotationSection', [['ovf:required', 'false']], [xtext('Info', 'A human-readable annotation'), xtext('Annotation', spec.description)]),
  ]);
  const envelope = xel('Envelope', [...NS, ['vmw:buildId', 'polyvisor']], [
    xel('References', [], files),
    xel('DiskSection', [], [xtext('Info', 'Virtual disk information'), ...diskDefs]),
    xel('NetworkSection', [], [xtext('Info', 'The list of logical networks'), xel('Network', [['ovf:name', VM_NETWORK]], [xtext('Description', `The ${VM_NETWORK} network`)])]),
    vs,
  ]);
  return { files: [{ name: `${spec.name}.ovf`, content: xmlDocument(envelope) }], warnings: w.list };
}
