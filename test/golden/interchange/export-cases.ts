/**
 * Specs the interchange writers' golden tests export (Hyper-V, Proxmox,
 * libvirt): each becomes test/golden/interchange/FORMAT/NAME.* (the
 * descriptor written) and NAME.plan.json (what the reader makes of it).
 * Disks named in `files` are exported as those files.
 */
import type { VmSpecInput } from '../../../src/spec/index.js';

export interface ExportCase {
  name: string;
  spec: VmSpecInput;
}

const root = { name: 'root', path: '/var/lib/polyvisor/images/root.qcow2' };
const iso = { name: 'install', media: 'cdrom' as const, path: '/var/lib/polyvisor/isos/debian-12.iso', format: 'raw' as const, bus: 'sata' as const, readOnly: true };

export const EXPORT_CASES: ExportCase[] = [
  { name: 'minimal', spec: { name: 'minimal', disks: [root] } },
  { name: 'multi-disk', spec: { name: 'db', cpu: { count: 4 }, memory: '4Gi', disks: [root, { name: 'data', size: '20Gi' }, { name: 'logs', size: '5Gi' }] } },
  { name: 'uefi', spec: { name: 'uefi-vm', memory: '2Gi', boot: { firmware: 'uefi' }, disks: [root] } },
  { name: 'uefi-secure-boot', spec: { name: 'win-sb', cpu: { count: 2 }, memory: '4Gi', boot: { firmware: 'uefi', secureBoot: true }, disks: [{ ...root, bus: 'sata' }], os: { type: 'windows', variant: 'win11' } } },
  { name: 'two-nics', spec: { name: 'router', disks: [root], networks: [{ name: 'wan', mac: '52:54:00:aa:00:01' }, { name: 'lan', mac: '52:54:00:aa:00:02', model: 'e1000' }] } },
  { name: 'cdrom', spec: { name: 'installer', memory: '1Gi', disks: [{ name: 'root', size: '16Gi' }, iso], boot: { order: ['cdrom', 'disk'] } } },
  { name: 'scsi', spec: { name: 'scsi-vm', cpu: { count: 2 }, scsiController: 'lsilogic', disks: [{ ...root, bus: 'scsi' }, { name: 'data', size: '10Gi', bus: 'scsi' }] } },
  { name: 'sata', spec: { name: 'sata-vm', disks: [{ ...root, bus: 'sata' }, { name: 'data', size: '8Gi', bus: 'sata' }], networks: [{ name: 'net0', model: 'e1000e', mac: '52:54:00:00:be:ef' }] } },
  { name: 'bios-pc-ide', spec: { name: 'legacy', machine: { type: 'pc' }, disks: [{ ...root, bus: 'ide' }, { ...iso, bus: 'ide' }], networks: [{ name: 'net0', model: 'rtl8139' }] } },
  { name: 'topology', spec: { name: 'big', cpu: { count: 8, sockets: 2, cores: 4 }, memory: '16Gi', disks: [root], description: 'two sockets of four cores' } },
  { name: 'odd-memory', spec: { name: 'odd', memory: '1537Mi', disks: [root], serial: { enabled: false }, agent: { enabled: false } } },
  { name: 'vmware-devices', spec: { name: 'from-esxi', cpu: { count: 2 }, scsiController: 'pvscsi', disks: [{ ...root, bus: 'scsi' }], networks: [{ name: 'net0', model: 'vmxnet3', mac: '00:50:56:01:02:03' }], display: { vnc: true, video: 'vmware' }, os: { type: 'linux', variant: 'debian12' } } },
];
