/**
 * VmSpec → a Proxmox VE qemu-server config (`NAME.conf`, to become
 * /etc/pve/qemu-server/VMID.conf). Disks are named `local:VMID/FILE` on
 * Proxmox's default directory storage (the export names files
 * vm-VMID-disk-N.qcow2 as that storage wants); CD-ROMs keep their absolute
 * ISO path. Keys in Proxmox's own (alphabetical) order. Pure;
 * proxmox-read.ts reads the output back.
 */
import { commonLossy } from './export-lossy.js';
import { Warnings } from './map-helpers.js';
import { encodeDescriptionLine, pveSizeText } from './proxmox-conf.js';
import type { ExportInput, ExportResult } from './types.js';

/** The VMID an export names its volumes with (the docs say how to renumber). */
export const PROXMOX_EXPORT_VMID = 100;

const SCSIHW = { 'virtio-scsi': 'virtio-scsi-single', lsilogic: 'lsi', lsisas1068: 'lsi', megasas: 'megasas', pvscsi: 'pvscsi' } as const;
const OSTYPES = new Set(['l26', 'l24', 'win11', 'win10', 'win8', 'win7', 'wvista', 'w2k8', 'w2k3', 'w2k', 'wxp', 'solaris', 'other']);
const BUS_MAX = { ide: 4, sata: 6, scsi: 31, virtio: 16 } as const;

export function writeProxmox(input: ExportInput): ExportResult {
  const { spec } = input;
  const w = new Warnings();
  commonLossy(spec, w, { description: true, cpuModel: true, topology: true, cache: true });
  const keys = new Map<string, string>();
  if (spec.agent.enabled) keys.set('agent', '1');
  if (spec.boot.firmware === 'uefi') {
    keys.set('bios', 'ovmf');
    w.add('boot.firmware', 'no EFI disk is exported: Proxmox keeps UEFI variables in a temporary store until one is added (qm set VMID --efidisk0 local-lvm:1,efitype=4m)');
    if (spec.boot.secureBoot === true) w.add('boot.secureBoot', 'secure boot needs an EFI disk with pre-enrolled keys: add it with qm set VMID --efidisk0 local-lvm:1,efitype=4m,pre-enrolled-keys=1');
  }
  if (spec.cpu.threads > 1) w.add('cpu.threads', `Proxmox has no threads per core: ${spec.cpu.threads} threads become cores`);
  keys.set('cores', String(spec.cpu.cores * spec.cpu.threads));
  keys.set('cpu', spec.cpu.model);
  if (spec.machine.type === 'q35') keys.set('machine', 'q35');
  const mib = Math.ceil(spec.memory / 1024 ** 2);
  if (mib * 1024 ** 2 !== spec.memory) w.add('memory', `Proxmox counts memory in MiB: ${spec.memory} bytes become ${mib} MiB`);
  keys.set('memory', String(mib));
  keys.set('name', spec.name);
  spec.networks.forEach((n, i) => {
    keys.set(`net${i}`, `${n.model}${n.mac === undefined ? '' : `=${n.mac.toUpperCase()}`},bridge=vmbr0${n.linkUp === false ? ',link_down=1' : ''}`);
  });
  if (spec.networks.length > 0) w.add('networks', 'NICs are attached to the bridge vmbr0');
  if (spec.os !== undefined) {
    const variant = spec.os.variant !== undefined && OSTYPES.has(spec.os.variant) ? spec.os.variant : undefined;
    keys.set('ostype', variant ?? (spec.os.type === 'linux' ? 'l26' : spec.os.type === 'windows' ? 'win10' : 'other'));
    if (spec.os.type === 'windows' && variant === undefined) w.add('os', 'a Windows guest becomes ostype win10 (Windows 10/2016/2019)');
  }
  const hasScsi = spec.disks.some((d) => d.bus === 'scsi');
  if (hasScsi) keys.set('scsihw', SCSIHW[spec.scsiController ?? 'virtio-scsi']);
  if (spec.serial.enabled) keys.set('serial0', 'socket');
  keys.set('sockets', String(spec.cpu.sockets));
  if (spec.display.video !== undefined) keys.set('vga', spec.display.video);
  if (spec.display.vnc) w.add('display.vnc', 'Proxmox always gives a VNC console; its own settings apply');

  const files = new Map(input.disks.map((d) => [d.name, d]));
  const used: Record<string, number> = { ide: 0, sata: 0, scsi: 0, virtio: 0 };
  const boot: Array<{ key: string; index: number }> = [];
  spec.disks.forEach((d, i) => {
    let bus: keyof typeof BUS_MAX = d.bus;
    if (used[bus]! >= BUS_MAX[bus]) {
      w.add(`disks[${i}].bus`, `Proxmox has ${BUS_MAX[bus]} ${bus} slots: the disk ${d.name} goes on scsi`);
      bus = 'scsi';
    }
    const key = `${bus}${used[bus]!++}`;
    if (d.readOnly && d.media === 'disk') w.add(`disks[${i}].readOnly`, 'read-only disks are not kept');
    const cache = d.cache === 'none' ? '' : `,cache=${d.cache}`;
    if (d.media === 'cdrom') {
      keys.set(key, `${d.path ?? 'none'},media=cdrom`);
      w.add(`disks[${i}].path`, `the CD-ROM's ISO ${d.path ?? ''} is named by this host's path: copy it to the Proxmox host (or upload it to an ISO storage) and fix ${key}`);
    } else {
      const f = files.get(d.name);
      if (f === undefined) throw new Error(`writeProxmox: no exported file for disk ${d.name}`);
      keys.set(key, `local:${PROXMOX_EXPORT_VMID}/${f.file}${cache},format=${f.format},size=${pveSizeText(f.capacity)}`);
    }
    boot.push({ key, index: d.bootIndex ?? 100 + i });
  });
  const order = boot.sort((a, b) => a.index - b.index).map((b) => b.key);
  if (spec.boot.order.includes('network')) order.push(...spec.networks.map((_n, i) => `net${i}`));
  if (order.length > 0) keys.set('boot', `order=${order.join(';')}`);
  const desc = spec.description === '' ? [] : spec.description.split('\n').map((l) => `#${encodeDescriptionLine(l)}`);
  const body = [...keys].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })).map(([k, v]) => `${k}: ${v}`);
  return { files: [{ name: `${spec.name}.conf`, content: `${[...desc, ...body].join('\n')}\n` }], warnings: w.list };
}
