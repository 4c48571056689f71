/**
 * VMware `.vmx` (Workstation, Fusion, ESXi) → an ImportPlan: displayName,
 * numvcpus and cpuid.coresPerSocket, memsize, firmware and
 * uefi.secureBoot.enabled, guestOS, annotation, SCSI/SATA/IDE/NVMe
 * controllers and their disks and CD-ROMs, ethernetN NICs, the SVGA card. A
 * disk whose file is not beside the VMX (absolute, or with `..`) is refused;
 * such an ISO is left out with a warning. Pure.
 */
import { fail } from '../shared/index.js';
import type { VmSpecInput } from '../spec/index.js';
import { importName, macOf, memoryText, nicModelFor, Warnings } from './map-helpers.js';
import { osTypeOf } from './ovf-units.js';
import { besideDescriptor } from './vmdk-descriptor.js';
import { isTrue, parseVmx } from './vmx-text.js';
import type { ImportedDisk, ImportPlan, ReadOptions } from './types.js';

type SpecDisk = NonNullable<VmSpecInput['disks']>[number];
type Vmx = ReturnType<typeof parseVmx>;

const SCSI: Record<string, NonNullable<VmSpecInput['scsiController']>> = { lsilogic: 'lsilogic', lsisas1068: 'lsisas1068', pvscsi: 'pvscsi' };
const BUS_ORDER = ['scsi', 'sata', 'nvme', 'ide'] as const;
const DEVICE = /^(scsi|sata|ide|nvme)(\d{1,2}):(\d{1,2})\.(.+)$/;
const CONTROLLER = /^(scsi|sata|ide|nvme)(\d{1,2})\.(.+)$/;
const NIC = /^ethernet(\d{1,2})\.(.+)$/;

/**
 * Keys read below, or that say nothing a QEMU VM needs (VMware Tools, UUIDs, PCI slots, VMware's own bookkeeping:
 * creation time, vCenter ids, fault-tolerance and CPUID caches of the last run, host memory trimming, the VM
 * generation id that any copy gets anew).
 */
const QUIET = /^(\.encoding|config\.version|virtualhw\.(version|productcompatibility)|displayname|numvcpus|cpuid\.corespersocket|memsize|firmware|uefi\.securebootenabled|uefi\.secureboot\.enabled|guestos|annotation|nvram|extendedconfigfile|pcibridge\d+\..*|vmci0\..*|hpet0\..*|tools\..*|toolsinstallmanager\..*|uuid\..*|vc\.uuid|cleanshutdown|softpoweroff|checkpoint\..*|migrate\..*|monitor\..*|sched\..*|numa\..*|svga\..*|vmotion\..*|gui\..*|vmxstats\..*|policy\..*|powertype\..*|msg\.autoanswer|replay\..*|virtualhw\..*|floppy\d+\.present|usb\.pcislotnumber|ehci\.pcislotnumber|usb_xhci\.pcislotnumber|sound\.pcislotnumber|toolscripts\..*|isolation\..*|guestinfo\.vmware\..*|bios\.bootorder|hgfs\..*|mks\..*|vmware\.tools\..*|parent\..*|scsi\d+\.pcislotnumber|sata\d+\.pcislotnumber|nvme\d+\.pcislotnumber|ethernet\d+\.pcislotnumber|keyboardandmouseprofile|proxyapps\.publishtohost|vhv\.enable|vpmc\.enable|vm\.createdate|vm\.genidx?|viv\..*|ftcpt\..*|(host|guest|user)cpuid\..*|evccompatibilitymode|chipset\.onlinestandby|cpuid\.corespersocket\.cookie|remotedisplay\.maxconnections|memallowautoscaledown|memtrimrate|buslogic\.nodriver)$/;

/** Optional devices: one warning each when present. */
const OPTIONAL = /^(usb|ehci|usb_xhci|sound|serial\d+|parallel\d+|floppy\d+)\.present$/;
const OPTIONAL_DEVICE = /^(usb|ehci|usb_xhci|sound|serial\d+|parallel\d+|floppy\d+)[.:]/;

export function readVmx(text: string, o: ReadOptions): ImportPlan {
  const vmx = parseVmx(text);
  const get = (k: string): string | undefined => vmx.get(k.toLowerCase())?.value;
  const w = new Warnings();
  const used = new Set<string>();
  const memsize = get('memsize');
  if (memsize === undefined) fail('INTERCHANGE_INVALID', 'the VMX has no memsize: it is not a VM configuration');
  const mib = numberKey(memsize, 16, 4 * 1024 * 1024, 'memsize');
  const count = get('numvcpus') === undefined ? 1 : numberKey(get('numvcpus')!, 1, 256, 'numvcpus');
  const cps = get('cpuid.coresPerSocket') === undefined ? undefined : numberKey(get('cpuid.coresPerSocket')!, 1, 256, 'cpuid.coresPerSocket');
  const uefi = /^efi$/i.test(get('firmware') ?? '');
  const secureBoot = uefi && isTrue(get('uefi.secureBoot.enabled'));
  const { disks, imported, scsiController } = readDisks(vmx, o, w, used);
  const ideOnly = disks.some((d) => d.bus === 'ide') && !disks.some((d) => d.bus === 'sata');
  const spec: VmSpecInput = {
    name: importName(get('displayName'), o.name, w, 'displayName'),
    cpu: cps !== undefined && cps > 1 && count % cps === 0 ? { count, sockets: count / cps, cores: cps } : { count },
    memory: memoryText(mib * 1024 * 1024),
    machine: { type: ideOnly && !secureBoot ? 'pc' : 'q35' },
    boot: { firmware: uefi ? 'uefi' : 'bios', ...(secureBoot ? { secureBoot: true } : {}) },
    disks,
    networks: readNics(vmx, o, w, used),
  };
  if (cps !== undefined && cps > 1 && count % cps !== 0) w.add('cpuid.coresPerSocket', `${count} CPUs do not split into sockets of ${cps} cores: one core per socket`);
  if (scsiController !== undefined) spec.scsiController = scsiController;
  const svga = get('svga.present');
  if (svga === undefined || isTrue(svga)) spec.display = { video: o.virtio === true ? 'virtio' : 'vmware' };
  const guestOS = get('guestOS');
  if (guestOS !== undefined && guestOS !== '') spec.os = { type: osTypeOf(guestOS), variant: guestOS.replace(/[^\x20-\x7e]/g, '').slice(0, 128) };
  const annotation = get('annotation');
  if (annotation !== undefined && annotation !== '') spec.description = annotation.slice(0, 1024);
  for (const [k, { key, value }] of vmx) {
    if (used.has(k) || QUIET.test(k)) continue;
    if (OPTIONAL.test(k)) {
      if (isTrue(value)) w.add(key, `the ${key.replace(/\.present$/i, '')} device is not carried over`);
      continue;
    }
    if (OPTIONAL_DEVICE.test(k)) continue; // the settings of a device warned about (or absent) above
    if (/^(scsi|sata|ide|nvme)\d+(:\d+)?\.|^ethernet\d+\./.test(k)) continue; // the rest of a device read above, or one that is not present
    w.add(key, `${key} = ${JSON.stringify(value)} is not carried over`);
  }
  return { format: 'vmx', spec, disks: imported, warnings: w.list };
}

function numberKey(v: string, min: number, max: number, key: string): number {
  const n = /^\d{1,12}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) fail('INTERCHANGE_INVALID', `${key} = ${JSON.stringify(v)} is not a number from ${min} to ${max}`);
  return n;
}

interface Slot { bus: (typeof BUS_ORDER)[number]; ctl: number; unit: number; prefix: string }

function readDisks(vmx: Vmx, o: ReadOptions, w: Warnings, used: Set<string>): { disks: SpecDisk[]; imported: ImportedDisk[]; scsiController?: NonNullable<VmSpecInput['scsiController']> } {
  const get = (k: string): string | undefined => vmx.get(k)?.value;
  const slots: Slot[] = [];
  for (const k of vmx.keys()) {
    const m = DEVICE.exec(k);
    if (m && m[4] === 'present' && isTrue(get(k)) && isTrue(get(`${m[1]}${m[2]}.present`) ?? (m[1] === 'ide' ? 'TRUE' : 'FALSE'))) {
      slots.push({ bus: m[1] as Slot['bus'], ctl: Number(m[2]), unit: Number(m[3]), prefix: `${m[1]}${m[2]}:${m[3]}` });
    }
  }
  slots.sort((a, b) => BUS_ORDER.indexOf(a.bus) - BUS_ORDER.indexOf(b.bus) || a.ctl - b.ctl || a.unit - b.unit);
  const disks: SpecDisk[] = [];
  const imported: ImportedDisk[] = [];
  let scsiController: NonNullable<VmSpecInput['scsiController']> | undefined;
  let hdd = 0;
  let cd = 0;
  for (const s of slots) {
    for (const k of vmx.keys()) if (k.startsWith(`${s.prefix}.`)) used.add(k);
    const file = get(`${s.prefix}.filename`) ?? '';
    const type = (get(`${s.prefix}.devicetype`) ?? (/\.vmdk$/i.test(file) ? 'disk' : '')).toLowerCase();
    const cdrom = type.includes('cdrom');
    if (cdrom) {
      if (type !== 'cdrom-image' || file === '') {
        w.add(`${s.prefix}.deviceType`, `the ${type} drive (a host drive, not an ISO) is not kept`);
        continue;
      }
      if (file.startsWith('/') || /^[A-Za-z]:[\\/]/.test(file) || file.split(/[\\/]/).includes('..')) {
        w.add(`${s.prefix}.fileName`, `the ISO ${file} is not beside the VMX: the CD-ROM is not kept`);
        continue;
      }
      const name = `cdrom${cd++}`;
      disks.push({ name, path: file, media: 'cdrom', format: 'raw', bus: s.bus === 'nvme' ? 'sata' : s.bus, readOnly: true });
      imported.push({ name, file, format: 'raw' });
      continue;
    }
    if (!/disk/.test(type) && type !== '') {
      w.add(`${s.prefix}.deviceType`, `the ${type} device is not kept`);
      continue;
    }
    besideDescriptor(file, `${s.prefix}.fileName`);
    const name = `disk${hdd++}`;
    let bus: SpecDisk['bus'] = s.bus === 'nvme' ? 'virtio' : s.bus;
    if (s.bus === 'nvme') w.add(`${s.prefix}`, 'the NVMe disk goes on virtio (QEMU NVMe is not in the spec): the guest needs virtio-blk drivers');
    if (o.virtio === true) bus = 'virtio';
    if (bus === 'scsi') {
      const dev = (get(`scsi${s.ctl}.virtualdev`) ?? 'lsilogic').toLowerCase();
      const model = SCSI[dev];
      if (model === undefined && scsiController === undefined) w.add(`scsi${s.ctl}.virtualDev`, `the SCSI controller ${dev} is not emulated: it becomes an LSI Logic 53C895A`);
      if (scsiController !== undefined && scsiController !== (model ?? 'lsilogic')) w.add(`scsi${s.ctl}.virtualDev`, `a second SCSI controller of another kind (${dev}): its disks share the ${scsiController} controller`);
      scsiController ??= model ?? 'lsilogic';
    }
    disks.push({ name, path: file, format: 'qcow2', bus });
    imported.push({ name, file, format: 'vmdk' });
  }
  for (const k of vmx.keys()) {
    const m = CONTROLLER.exec(k);
    if (m && (m[3] === 'present' || m[3] === 'virtualdev')) used.add(k);
  }
  if (disks.length > 16) fail('INTERCHANGE_INVALID', `the VMX has ${disks.length} disks and CD-ROMs; a spec holds at most 16`);
  return { disks, imported, ...(scsiController === undefined ? {} : { scsiController }) };
}

function readNics(vmx: Vmx, o: ReadOptions, w: Warnings, used: Set<string>): NonNullable<VmSpecInput['networks']> {
  const get = (k: string): string | undefined => vmx.get(k)?.value;
  const indexes = [...vmx.keys()].map((k) => NIC.exec(k)).filter((m): m is RegExpExecArray => m !== null && m[2] === 'present' && isTrue(get(m[0])))
    .map((m) => Number(m[1])).sort((a, b) => a - b);
  if (indexes.length > 8) fail('INTERCHANGE_INVALID', `the VMX has ${indexes.length} NICs; a spec holds at most 8`);
  return indexes.map((n, i) => {
    const p = `ethernet${n}`;
    for (const k of vmx.keys()) if (k.startsWith(`${p}.`)) used.add(k);
    const model = nicModelFor(get(`${p}.virtualdev`) ?? 'e1000', o, w, `${p}.virtualDev`);
    const addressType = (get(`${p}.addresstype`) ?? 'generated').toLowerCase();
    const mac = macOf(addressType === 'static' ? get(`${p}.address`) : get(`${p}.generatedaddress`) ?? get(`${p}.address`));
    const conn = get(`${p}.connectiontype`) ?? 'bridged';
    const network = get(`${p}.networkname`) ?? get(`${p}.vnet`);
    if (conn !== 'nat' || network !== undefined) {
      // The key the file has: ESXi names the port group (networkName) and writes no connectionType.
      const source = vmx.get(`${p}.connectiontype`)?.key ?? vmx.get(`${p}.networkname`)?.key ?? vmx.get(`${p}.vnet`)?.key ?? `${p}.connectionType`;
      w.add(source, `the ${conn} connection${network ? ` to ${network}` : ''} is not kept: the NIC uses user-mode networking (attach it to a Polyvisor network after import)`);
    }
    return { name: `net${i}`, model, ...(mac ? { mac } : {}) };
  });
}
