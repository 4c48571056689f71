/**
 * The VMs every interchange writer and reader is checked with (golden files
 * under test/golden/interchange/FORMAT/, round trips, vcsim). Each case is a
 * spec plus the facts the export step would hand the writer about its disks.
 */
import type { ExportDisk } from '../../../src/interchange/index.js';
import type { VmSpecInput } from '../../../src/spec/index.js';

export interface InterchangeCase {
  name: string;
  spec: VmSpecInput;
  /** Disks (and ISOs) as exported: file name, format and virtual size. ISOs left out are empty drives. */
  disks: ExportDisk[];
}

const GiB = 1024 ** 3;
const vmdk = (name: string, capacity: number, fileSize?: number): ExportDisk => ({ name, file: `${name}.vmdk`, format: 'vmdk', capacity, ...(fileSize === undefined ? {} : { fileSize }) });
const iso = (name: string): ExportDisk => ({ name, file: `${name}.iso`, format: 'raw', capacity: 300 * 1024 ** 2 });

export const INTERCHANGE_CASES: InterchangeCase[] = [
  {
    name: 'minimal-bios',
    spec: { name: 'minimal', memory: '512Mi', disks: [{ name: 'root', path: '/srv/root.qcow2' }], networks: [{ name: 'net0' }] },
    disks: [vmdk('root', 8 * GiB, 1234567)],
  },
  {
    name: 'multi-disk-lsilogic',
    spec: {
      name: 'db', cpu: { count: 2 }, memory: '4Gi', scsiController: 'lsilogic',
      disks: [{ name: 'root', path: '/srv/root.qcow2', bus: 'scsi' }, { name: 'data', path: '/srv/data.qcow2', bus: 'scsi' }, { name: 'logs', path: '/srv/logs.qcow2', bus: 'scsi' }],
      networks: [{ name: 'net0', model: 'e1000' }],
    },
    disks: [vmdk('root', 20 * GiB), vmdk('data', 100 * GiB), vmdk('logs', 5 * GiB)],
  },
  {
    name: 'uefi-sata',
    spec: { name: 'uefi', cpu: { count: 2 }, memory: '2Gi', boot: { firmware: 'uefi' }, disks: [{ name: 'root', path: '/srv/root.qcow2', bus: 'sata' }], networks: [{ name: 'net0', model: 'e1000e' }] },
    disks: [vmdk('root', 16 * GiB)],
  },
  {
    name: 'secure-boot-windows',
    spec: {
      name: 'win2019', cpu: { count: 4, sockets: 2, cores: 2 }, memory: '8Gi', boot: { firmware: 'uefi', secureBoot: true }, scsiController: 'pvscsi',
      os: { type: 'windows', variant: 'windows2019srv_64Guest' }, display: { video: 'vmware' },
      disks: [{ name: 'c', path: '/srv/c.qcow2', bus: 'scsi' }], networks: [{ name: 'net0', model: 'vmxnet3', mac: '00:50:56:01:02:03' }],
    },
    disks: [vmdk('c', 60 * GiB)],
  },
  {
    name: 'two-nics',
    spec: {
      name: 'router', memory: '1Gi', disks: [{ name: 'root', path: '/srv/root.qcow2', bus: 'sata' }],
      networks: [{ name: 'wan', model: 'e1000', mac: '00:50:56:0a:0b:0c' }, { name: 'lan', model: 'e1000', mac: '52:54:00:12:34:56' }],
    },
    disks: [vmdk('root', 4 * GiB)],
  },
  {
    name: 'cdrom-iso',
    spec: {
      name: 'installer', memory: '2Gi', disks: [{ name: 'root', path: '/srv/root.qcow2', bus: 'sata' }, { name: 'install', path: '/srv/debian.iso', media: 'cdrom', bus: 'sata' }],
      networks: [{ name: 'net0', model: 'e1000' }], boot: { order: ['cdrom', 'disk'] },
    },
    disks: [vmdk('root', 10 * GiB), iso('install')],
  },
  {
    name: 'scsi-sas-cdrom',
    spec: {
      name: 'sas', cpu: { count: 2 }, memory: '2Gi', scsiController: 'lsisas1068',
      disks: [{ name: 'root', path: '/srv/root.qcow2', bus: 'scsi' }, { name: 'data', path: '/srv/data.qcow2', bus: 'scsi' }, { name: 'tools', path: '/srv/tools.iso', media: 'cdrom', bus: 'scsi' }],
      networks: [{ name: 'net0', model: 'e1000' }],
    },
    disks: [vmdk('root', 10 * GiB), vmdk('data', 2 * GiB), iso('tools')],
  },
  {
    name: 'sata-controller',
    spec: {
      name: 'sata', memory: '1Gi',
      disks: [{ name: 'a', path: '/srv/a.qcow2', bus: 'sata' }, { name: 'b', path: '/srv/b.qcow2', bus: 'sata' }, { name: 'cd', path: '/srv/cd.iso', media: 'cdrom', bus: 'sata' }],
      networks: [{ name: 'net0', model: 'e1000' }],
    },
    disks: [vmdk('a', 8 * GiB), vmdk('b', 8 * GiB), iso('cd')],
  },
  {
    name: 'ide-pc',
    spec: {
      name: 'legacy', machine: { type: 'pc' }, memory: '256Mi', os: { type: 'windows', variant: 'winXPPro' },
      disks: [{ name: 'hda', path: '/srv/hda.qcow2', bus: 'ide' }, { name: 'cd', path: '/srv/cd.iso', media: 'cdrom', bus: 'ide' }],
      networks: [{ name: 'net0', model: 'e1000' }],
    },
    disks: [vmdk('hda', 2 * GiB), iso('cd')],
  },
  {
    name: 'topology-description',
    spec: {
      name: 'big', description: 'build server "ci" | nightly\nsecond line', cpu: { count: 8, sockets: 2, cores: 4 }, memory: '12Gi',
      os: { type: 'linux', variant: 'ubuntu64Guest' }, disks: [{ name: 'root', path: '/srv/root.qcow2', bus: 'sata' }], networks: [{ name: 'net0', model: 'vmxnet3' }],
    },
    disks: [vmdk('root', 40 * GiB)],
  },
  {
    name: 'virtio-lossy',
    spec: {
      name: 'kvm-native', cpu: { count: 2, threads: 2, cores: 1 }, memory: '1000Mi', labels: { team: 'web' }, display: { vnc: true, video: 'virtio' },
      disks: [{ name: 'root', path: '/srv/root.qcow2', cache: 'none' }, { name: 'data', path: '/srv/data.qcow2', readOnly: true, bootIndex: 3 }],
      networks: [{ name: 'net0', model: 'virtio', portForwards: [{ hostPort: 2222, guestPort: 22 }] }, { name: 'net1', model: 'rtl8139' }],
    },
    disks: [vmdk('root', 10 * GiB), vmdk('data', 1 * GiB)],
  },
  {
    name: 'empty-cdrom-e1000e',
    spec: {
      name: 'empty-cd', memory: '768Mi', boot: { firmware: 'uefi' }, os: { type: 'linux' },
      disks: [{ name: 'root', path: '/srv/root.qcow2', bus: 'sata' }, { name: 'cd', path: '/srv/none.iso', media: 'cdrom', bus: 'sata' }],
      networks: [{ name: 'net0', model: 'e1000e', mac: '00:50:56:3f:00:01' }],
    },
    disks: [vmdk('root', 3 * GiB)],
  },
];
