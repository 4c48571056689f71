/**
 * XenServer / XCP-ng XVA `ova.xml` → an ImportPlan. The file is one XML-RPC
 * struct: `version` (who exported it) and `objects`, a list of
 * `{class, id, snapshot}` records — the VM, its VBDs, VDIs, VIFs, networks
 * and SRs as XAPI holds them (xen-api `ocaml/xapi/export.ml`). Each VDI's
 * disk sits in the XVA tar as a folder named by its `id` (`Ref:5/`) of 1 MiB
 * chunks; the plan names that folder as the disk's file (format raw), and
 * xva-disks.ts reassembles it.
 *
 * Mapping: name_label, name_description; VCPUs_at_startup with
 * platform:cores-per-socket; memory_static_max; HVM_boot_params:firmware
 * "uefi" and platform:secureboot; disks by VBD userdevice — 0-3 are the
 * guest's emulated IDE disks on Xen and stay IDE (on `pc`, as Xen's HVM
 * machine is an i440FX), higher ones only ever had Xen's PV driver and go on
 * virtio (warned); VIFs by device with their MAC, as the RTL8139 Xen emulates
 * (platform:nic_type e1000 kept); platform:vga std/cirrus (stdvga 1/0 in
 * XenServer 6-7 exports). Everything else
 * that says something about the guest is a warning naming its field. Pure.
 */
import { fail } from '../shared/index.js';
import type { VmSpecInput } from '../spec/index.js';
import { importName, macOf, memoryText, nicModelFor, Warnings } from './map-helpers.js';
import { osTypeOf } from './ovf-units.js';
import { parseForeignXml } from './safe-xml.js';
import type { ImportedDisk, ImportPlan, ReadOptions } from './types.js';
import { isStruct, rpcBool, rpcList, rpcStruct, rpcText, rpcValue, type RpcStruct } from './xmlrpc-value.js';

type SpecDisk = NonNullable<VmSpecInput['disks']>[number];

const WHAT = 'the XVA ova.xml';
/** A VDI's id names its chunk folder in the tar: kept to plain characters. */
export const XVA_REF = /^[A-Za-z0-9_:.-]{1,100}$/;
/** XAPI's own VDIs stop at 2 TiB (VHD); past 64 TiB a "disk" is a hostile size. */
const MAX_DISK_BYTES = 64 * 1024 ** 4;

/** platform keys read below, or that tune Xen itself (nothing a QEMU guest sees differently). */
const QUIET_PLATFORM = new Set(['cores-per-socket', 'secureboot', 'vga', 'stdvga', 'videoram', 'nic_type', 'viridian', 'acpi', 'apic', 'pae', 'nx', 'hpet', 'timeoffset', 'device-model', 'device_id', 'tsc_mode', 'usb', 'usb_tablet', 'featureset', 'acpi_laptop_slate', 'viridian_reference_tsc', 'viridian_time_ref_count', 'viridian_apic_assist', 'viridian_crash_ctl', 'viridian_stimer', 'viridian_hcall_remote_tlb_flush', 'viridian_apic_vector_hint']);

interface XvaObject { cls: string; id: string; rec: RpcStruct }

export function readXva(text: string, o: ReadOptions): ImportPlan {
  const root = rpcValue(parseForeignXml(text, WHAT), WHAT);
  if (!isStruct(root) || !Array.isArray(root['objects'])) fail('INTERCHANGE_INVALID', `${WHAT} is not an XVA export (no "objects" list)`);
  const objects: XvaObject[] = rpcList(root, 'objects').map((v) => {
    if (!isStruct(v)) fail('INTERCHANGE_INVALID', `${WHAT}: an object that is not a struct`);
    return { cls: rpcText(v, 'class'), id: rpcText(v, 'id'), rec: rpcStruct(v, 'snapshot') };
  });
  const byId = new Map(objects.map((x) => [x.id, x]));
  const w = new Warnings();
  const vms = objects.filter((x) => x.cls === 'VM' && !rpcBool(x.rec, 'is_a_snapshot') && !rpcBool(x.rec, 'is_control_domain'));
  if (vms.length !== 1) fail('INTERCHANGE_INVALID', `${WHAT} holds ${vms.length} VMs (not counting snapshots); an import takes exactly one`);
  const snaps = objects.filter((x) => x.cls === 'VM' && rpcBool(x.rec, 'is_a_snapshot'));
  if (snaps.length > 0) w.add('VM/snapshots', `${snaps.length} snapshot(s) are not carried over: the VM's current disks are imported`);
  const vm = vms[0]!.rec;
  if (rpcBool(vm, 'is_a_template')) w.add('VM/is_a_template', 'the export is a template: it is imported as a VM');

  const platform = rpcStruct(vm, 'platform');
  const count = intField(rpcText(vm, 'VCPUs_at_startup') || rpcText(vm, 'VCPUs_max') || '1', 1, 256, 'VM/VCPUs_at_startup');
  const vmax = intField(rpcText(vm, 'VCPUs_max') || String(count), 1, 4096, 'VM/VCPUs_max');
  if (vmax > count) w.add('VM/VCPUs_max', `VCPUs_max ${vmax} (vCPUs hot-plugged up to that) is not carried over: the VM gets ${count}`);
  const cps = platform['cores-per-socket'] === undefined ? 0 : intField(rpcText(platform, 'cores-per-socket'), 1, 256, 'VM/platform/cores-per-socket');
  if (cps > 1 && count % cps !== 0) w.add('VM/platform/cores-per-socket', `${count} vCPUs do not split into sockets of ${cps} cores: one core per socket`);
  const memBytes = intField(rpcText(vm, 'memory_static_max'), 16 * 1024 * 1024, 4 * 1024 ** 4, 'VM/memory_static_max');
  const dynMax = rpcText(vm, 'memory_dynamic_max');
  if (/^\d+$/.test(dynMax) && Number(dynMax) < memBytes) {
    w.add('VM/memory_dynamic_max', `dynamic memory (ballooning down to ${Math.round(Number(dynMax) / 2 ** 20)} MiB) is not carried over: the VM gets ${Math.round(memBytes / 2 ** 20)} MiB`);
  }

  const hvm = rpcText(vm, 'HVM_boot_policy') !== '';
  if (!hvm) {
    const loader = rpcText(vm, 'PV_bootloader');
    w.add('VM/HVM_boot_policy', `a PV guest (${loader ? `boot loader ${loader}` : 'kernel given by the host'}) becomes a BIOS guest booting its first disk: the disk needs its own boot loader`);
  }
  const uefi = rpcText(rpcStruct(vm, 'HVM_boot_params'), 'firmware') === 'uefi';
  const sb = rpcText(platform, 'secureboot');
  const secureBoot = uefi && sb === 'true';
  if (uefi && sb === 'auto') w.add('VM/platform/secureboot', 'secure boot "auto" (on when the pool has keys) is not carried over: the VM boots UEFI without secure boot');
  for (const k of Object.keys(platform).sort()) {
    if (!QUIET_PLATFORM.has(k)) w.add(`VM/platform/${k}`, `platform:${k} = ${JSON.stringify(rpcText(platform, k))} is not carried over`);
  }
  if (rpcBool(platform, 'viridian')) w.add('VM/platform/viridian', 'Viridian (Hyper-V enlightenments for Windows) is not carried over');
  for (const k of ['VTPMs', 'VGPUs', 'attached_PCIs', 'VUSBs']) if (rpcList(vm, k).length > 0) w.add(`VM/${k}`, `the VM's ${k} are not carried over`);

  const { disks, imported } = readVbds(vm, byId, o, w);
  const ideOnly = disks.some((d) => d.bus === 'ide');
  const spec: VmSpecInput = {
    name: importName(rpcText(vm, 'name_label'), o.name, w, 'VM/name_label'),
    cpu: cps > 1 && count % cps === 0 ? { count, sockets: count / cps, cores: cps } : { count },
    memory: memoryText(memBytes),
    machine: { type: ideOnly && !secureBoot ? 'pc' : 'q35' },
    boot: { firmware: uefi ? 'uefi' : 'bios', ...(secureBoot ? { secureBoot: true } : {}) },
    disks,
    networks: readVifs(vm, byId, platform, o, w),
  };
  // XenServer 6/7 wrote stdvga 0/1 where later versions write vga std/cirrus.
  const vga = rpcText(platform, 'vga') || (/^(1|true)$/.test(rpcText(platform, 'stdvga')) ? 'std' : '');
  spec.display = { video: o.virtio === true ? 'virtio' : vga === 'std' ? 'std' : 'cirrus' };
  if (vga !== '' && vga !== 'std' && vga !== 'cirrus') w.add('VM/platform/vga', `the ${vga} display becomes a Cirrus VGA, Xen's default`);
  const description = rpcText(vm, 'name_description');
  if (description !== '') spec.description = description.slice(0, 1024);
  const os = rpcText(rpcStruct(vm, 'other_config'), 'base_template_name') || rpcText(vm, 'reference_label');
  const osType = rpcBool(platform, 'viridian') ? 'windows' : os !== '' ? osTypeOf(os) : undefined;
  if (osType !== undefined) spec.os = { type: osType, ...(os !== '' ? { variant: os.replace(/[^\x20-\x7e]/g, '').slice(0, 128) } : {}) };
  return { format: 'xva', spec, disks: imported, warnings: w.list };
}

function intField(v: string, min: number, max: number, where: string): number {
  const n = /^\d{1,16}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) fail('INTERCHANGE_INVALID', `${WHAT}: ${where} = ${JSON.stringify(v.slice(0, 40))} is not a number from ${min} to ${max}`);
  return n;
}

function readVbds(vm: RpcStruct, byId: Map<string, XvaObject>, o: ReadOptions, w: Warnings): { disks: SpecDisk[]; imported: ImportedDisk[] } {
  const vbds = rpcList(vm, 'VBDs').map((r) => byId.get(String(r))).filter((x): x is XvaObject => x?.cls === 'VBD')
    .sort((a, b) => Number(rpcText(a.rec, 'userdevice')) - Number(rpcText(b.rec, 'userdevice')));
  if (vbds.length > 16) fail('INTERCHANGE_INVALID', `${WHAT}: the VM has ${vbds.length} VBDs; a spec holds at most 16 disks`);
  const disks: SpecDisk[] = [];
  const imported: ImportedDisk[] = [];
  const seen = new Set<string>();
  for (const b of vbds) {
    const dev = rpcText(b.rec, 'userdevice');
    const where = `VBD[userdevice=${dev}]`;
    const vdi = byId.get(rpcText(b.rec, 'VDI'));
    if (rpcText(b.rec, 'type') === 'CD') {
      w.add(where, rpcBool(b.rec, 'empty') || vdi === undefined ? 'an empty CD drive is not kept' : `the CD's ISO ${rpcText(vdi.rec, 'name_label') || vdi.id} lives in an ISO library, not in the XVA: not kept (attach an ISO after import)`);
      continue;
    }
    if (vdi === undefined || vdi.cls !== 'VDI') {
      w.add(where, 'the disk\'s VDI is not in the export: the disk is left out');
      continue;
    }
    if (!XVA_REF.test(vdi.id) || vdi.id.includes('..')) fail('INTERCHANGE_INVALID', `${WHAT}: the VDI id ${JSON.stringify(vdi.id.slice(0, 120))} is not a plain reference (it names the disk's folder in the XVA)`);
    if (seen.has(vdi.id)) fail('INTERCHANGE_INVALID', `${WHAT}: the VDI ${vdi.id} is attached twice`);
    seen.add(vdi.id);
    const capacity = intField(rpcText(vdi.rec, 'virtual_size'), 1, MAX_DISK_BYTES, `VDI ${vdi.id} virtual_size`);
    const userdevice = /^\d{1,2}$/.test(dev) ? Number(dev) : 99;
    let bus: SpecDisk['bus'] = userdevice <= 3 ? 'ide' : 'virtio';
    if (userdevice > 3 && o.virtio !== true) w.add(where, `disk ${dev} was reachable only through Xen's PV driver (no emulated IDE slot): it goes on virtio, the guest needs virtio-blk drivers`);
    if (o.virtio === true) {
      if (bus !== 'virtio') w.add(where, 'the IDE disk becomes virtio (--virtio): the guest needs virtio-blk drivers');
      bus = 'virtio';
    }
    if (rpcText(b.rec, 'mode') === 'RO') w.add(`${where}/mode`, 'the read-only disk becomes writable');
    const name = `disk${disks.length}`;
    disks.push({ name, path: vdi.id, format: 'qcow2', bus });
    imported.push({ name, file: vdi.id, format: 'raw', capacity });
  }
  return { disks, imported };
}

function readVifs(vm: RpcStruct, byId: Map<string, XvaObject>, platform: RpcStruct, o: ReadOptions, w: Warnings): NonNullable<VmSpecInput['networks']> {
  const vifs = rpcList(vm, 'VIFs').map((r) => byId.get(String(r))).filter((x): x is XvaObject => x?.cls === 'VIF')
    .sort((a, b) => Number(rpcText(a.rec, 'device')) - Number(rpcText(b.rec, 'device')));
  if (vifs.length > 8) fail('INTERCHANGE_INVALID', `${WHAT}: the VM has ${vifs.length} VIFs; a spec holds at most 8`);
  const nicType = rpcText(platform, 'nic_type') || 'rtl8139';
  return vifs.map((v, i) => {
    const where = `VIF[device=${rpcText(v.rec, 'device')}]`;
    const model = nicModelFor(nicType, o, w, i === 0 && platform['nic_type'] !== undefined ? 'VM/platform/nic_type' : where);
    const mac = macOf(rpcText(v.rec, 'MAC'));
    const net = byId.get(rpcText(v.rec, 'network'));
    const label = net === undefined ? '' : rpcText(net.rec, 'name_label');
    w.add(`${where}/network`, `the connection${label ? ` to ${label}` : ''} is not kept: the NIC uses user-mode networking (attach it to a Polyvisor network after import)`);
    return { name: `net${i}`, model, ...(mac ? { mac } : {}) };
  });
}
