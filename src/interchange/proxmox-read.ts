/**
 * Proxmox VE qemu-server `.conf` → an ImportPlan: name, sockets × cores,
 * memory (MiB), bios (seabios/ovmf, secure boot from an EFI disk with
 * pre-enrolled keys), machine, ide/sata/scsi/virtio drives with their cache
 * mode, CD-ROMs, net devices with model and MAC, scsihw, vga, ostype, agent,
 * serial0. Every other key is a warning naming it. Pure.
 */
import { fail } from '../shared/index.js';
import type { VmSpecInput } from '../spec/index.js';
import { baseName, diskFormatOfFile, importName, macOf, memoryText, nicModelFor, Warnings } from './map-helpers.js';
import { parsePveConf, propertyString, pveSize } from './proxmox-conf.js';
import type { ImportedDisk, ImportPlan, ReadOptions } from './types.js';

type SpecDisk = NonNullable<VmSpecInput['disks']>[number];
type SpecNic = NonNullable<VmSpecInput['networks']>[number];

/** Keys that say nothing the spec lacks (ids, timestamps, defaults) or are read below. */
const QUIET = new Set(['name', 'memory', 'sockets', 'cores', 'vcpus', 'cpu', 'bios', 'machine', 'efidisk0', 'scsihw', 'vga', 'ostype', 'agent', 'serial0',
  'boot', 'bootdisk', 'smbios1', 'vmgenid', 'meta', 'numa', 'digest', 'kvm', 'acpi', 'tablet', 'hotplug', 'localtime', 'onboot', 'balloon']);
const DRIVE = /^(ide|sata|scsi|virtio)(\d+)$/;
const CACHE = new Set(['none', 'writeback', 'writethrough', 'directsync', 'unsafe']);
const SCSIHW: Record<string, NonNullable<VmSpecInput['scsiController']>> = {
  'virtio-scsi-pci': 'virtio-scsi', 'virtio-scsi-single': 'virtio-scsi', lsi: 'lsilogic', lsi53c810: 'lsilogic', megasas: 'megasas', pvscsi: 'pvscsi',
};
const VGA = new Set(['std', 'qxl', 'virtio', 'vmware', 'cirrus', 'none']);
const CPU = new Set(['host', 'max', 'qemu64', 'kvm64', 'Skylake-Client', 'EPYC']);

export function readProxmox(text: string, o: ReadOptions): ImportPlan {
  const conf = parsePveConf(text);
  const w = new Warnings();
  const get = (k: string): string | undefined => conf.entries.get(k)?.value;
  const name = importName(get('name'), o.name, w, 'name');
  const sockets = int(get('sockets') ?? '1', 'sockets');
  const cores = int(get('cores') ?? '1', 'cores');
  const vcpus = get('vcpus');
  if (vcpus !== undefined && int(vcpus, 'vcpus') !== sockets * cores) w.add('vcpus', `vcpus ${vcpus} (CPUs plugged at start) is not kept: the VM gets all ${sockets * cores}`);
  const cpuText = propertyString(get('cpu') ?? 'kvm64');
  const cpuModel = cpuText.first ?? cpuText.props.get('cputype') ?? 'kvm64';
  let model = CPU.has(cpuModel) ? cpuModel : 'max';
  if (model !== cpuModel) w.add('cpu', `the CPU type ${cpuModel} becomes max`);
  if (cpuText.props.has('flags')) w.add('cpu', `CPU flags ${cpuText.props.get('flags')} are not kept`);
  const memText = get('memory') ?? '512';
  const memMiB = int(propertyString(memText).props.get('current') ?? memText, 'memory');
  const balloon = get('balloon');
  if (balloon !== undefined && balloon !== '0' && Number(balloon) !== memMiB) w.add('balloon', `the balloon minimum ${balloon} MiB is not kept`);
  const uefi = get('bios') === 'ovmf';
  const efi = propertyString(get('efidisk0') ?? '');
  const secureBoot = uefi && get('efidisk0') !== undefined ? efi.props.get('pre-enrolled-keys') === '1' : undefined;
  const machineRaw = get('machine') ?? 'pc';
  const machineType = propertyString(machineRaw).first ?? propertyString(machineRaw).props.get('type') ?? 'pc';
  const q35 = /q35/.test(machineType);
  if (!/^(pc|q35|pc-(i440fx-)?\d.*|pc-q35-\d.*)$/.test(machineType)) w.add('machine', `the machine ${machineType} becomes pc`);
  if (model === 'host' && q35 === false && get('kvm') === '0') model = 'max';

  const disks: SpecDisk[] = [];
  const files: ImportedDisk[] = [];
  const nics: SpecNic[] = [];
  const scsi = get('scsihw') ?? 'lsi'; // Proxmox's default controller
  const driveKeys = [...conf.entries.keys()].filter((k) => DRIVE.test(k)).sort(driveOrder);
  for (const k of driveKeys) {
    const d = readDrive(k, get(k)!, o, w);
    if (d === undefined) continue;
    disks.push(d.disk);
    if (d.file) files.push(d.file);
  }
  const hasScsi = disks.some((d) => d.bus === 'scsi');
  const scsiController = SCSIHW[scsi];
  if (hasScsi && scsiController === undefined) w.add('scsihw', `the SCSI controller ${scsi} becomes virtio-scsi`);
  for (const k of [...conf.entries.keys()].filter((x) => /^net\d+$/.test(x)).sort(numeric)) {
    const nic = readNet(k, get(k)!, o, w);
    if (nic) nics.push(nic);
  }
  const vga = get('vga') === undefined ? undefined : propertyString(get('vga')!);
  let video: string | undefined = vga === undefined ? undefined : vga.first ?? vga.props.get('type');
  if (video !== undefined && !VGA.has(video)) {
    w.add('vga', `the display ${video} becomes std${/^serial/.test(video) ? ' (the serial console is kept as serial0)' : ''}`);
    video = 'std';
  }
  const ostype = get('ostype');
  const os = ostype === undefined ? undefined : { type: /^l2/.test(ostype) ? 'linux' as const : /^(win|w2k|wxp|wvista)/.test(ostype) ? 'windows' as const : 'other' as const, variant: ostype };
  for (const [k, { value }] of conf.entries) {
    if (QUIET.has(k) || DRIVE.test(k) || /^net\d+$/.test(k)) continue;
    w.add(k, `${k}: ${value.length > 60 ? `${value.slice(0, 60)}…` : value} is not kept`);
  }
  for (const s of conf.sections) w.add(`[${s}]`, s === 'PENDING' ? 'pending changes are not applied' : `the snapshot ${s} is not kept (only the current state is imported)`);
  const agent = propertyString(get('agent') ?? '0');
  const serial = get('serial0');
  if (serial !== undefined && serial !== 'socket') w.add('serial0', `serial0 on ${serial} becomes the VM's serial console`);
  const spec: VmSpecInput = {
    name,
    ...(conf.description === '' ? {} : { description: conf.description.slice(0, 1024) }),
    cpu: { count: sockets * cores, sockets, cores, model: model as 'max' },
    memory: memoryText(memMiB * 1024 * 1024),
    machine: { type: q35 ? 'q35' : 'pc' },
    boot: { firmware: uefi ? 'uefi' : 'bios', ...(secureBoot === undefined || !q35 ? {} : { secureBoot }) },
    disks,
    networks: nics,
    serial: { enabled: serial !== undefined },
    agent: { enabled: agent.first === '1' || agent.props.get('enabled') === '1' },
    ...(hasScsi && scsiController !== undefined && scsiController !== 'virtio-scsi' && o.virtio !== true ? { scsiController } : {}),
    ...(video === undefined ? {} : { display: { video: video as 'std' } }),
    ...(os === undefined ? {} : { os }),
  };
  if (secureBoot === true && !q35) w.add('efidisk0', 'secure boot is not kept: it needs a q35 machine');
  return { format: 'proxmox', spec, disks: files, warnings: w.list };
}

function int(s: string, key: string): number {
  if (!/^\d+$/.test(s.trim())) fail('INTERCHANGE_INVALID', `the Proxmox config's ${key} ${JSON.stringify(s)} is not a whole number`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) fail('INTERCHANGE_INVALID', `the Proxmox config's ${key} ${s} is too large`);
  return n;
}

const numeric = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });
const BUS_ORDER = ['virtio', 'scsi', 'sata', 'ide'];
function driveOrder(a: string, b: string): number {
  const [, ba, na] = DRIVE.exec(a)!;
  const [, bb, nb] = DRIVE.exec(b)!;
  return BUS_ORDER.indexOf(ba!) - BUS_ORDER.indexOf(bb!) || Number(na) - Number(nb);
}

/** A volume id → the file the import looks for beside the .conf. */
function volumeFile(volume: string, key: string, w: Warnings): string {
  if (volume.startsWith('/')) return volume;
  const colon = volume.indexOf(':');
  const storage = colon < 0 ? '' : volume.slice(0, colon);
  const rest = colon < 0 ? volume : volume.slice(colon + 1);
  if (!rest.includes('/')) w.add(key, `${volume} is a volume on the block storage ${storage}: export it as a file named ${baseName(rest)} beside the config (e.g. qemu-img convert -O qcow2 /dev/pve/${rest} ${rest}.qcow2)`);
  return baseName(rest);
}

function readDrive(key: string, value: string, o: ReadOptions, w: Warnings): { disk: SpecDisk; file?: ImportedDisk } | undefined {
  const [, bus, n] = DRIVE.exec(key)!;
  const p = propertyString(value);
  const volume = p.first ?? p.props.get('file') ?? '';
  const cdrom = p.props.get('media') === 'cdrom';
  if (volume === 'none' || volume === 'cdrom' || volume === '') {
    w.add(key, volume === 'cdrom' ? 'the host\'s physical CD drive is not kept' : 'an empty drive is not kept');
    return undefined;
  }
  if (volume.includes('cloudinit')) {
    w.add(key, 'Proxmox\'s cloud-init drive is not kept (set cloudInit in the spec)');
    return undefined;
  }
  const cache = p.props.get('cache') ?? 'none';
  if (!CACHE.has(cache)) w.add(`${key}.cache`, `the cache mode ${cache} becomes none`);
  const file = volumeFile(volume, key, w);
  for (const opt of ['iops', 'mbps', 'iops_rd', 'iops_wr', 'mbps_rd', 'mbps_wr', 'snapshot', 'serial', 'wwn', 'model']) {
    if (p.props.has(opt)) w.add(`${key}.${opt}`, `${opt}=${p.props.get(opt)} is not kept`);
  }
  const specBus = (o.virtio === true && !cdrom ? 'virtio' : bus) as SpecDisk['bus'];
  const name = cdrom ? `cdrom${n}` : key;
  if (cdrom) return { disk: { name, path: file, media: 'cdrom', format: 'raw', bus: specBus === 'virtio' ? 'sata' : specBus, readOnly: true }, file: { name, file, format: 'raw' } };
  const format = (p.props.get('format') as ImportedDisk['format'] | undefined) ?? diskFormatOfFile(file);
  const capacity = pveSize(p.props.get('size'));
  return {
    disk: { name, path: file, format: 'qcow2', bus: specBus, cache: CACHE.has(cache) ? cache as 'none' : 'none', ...(p.props.get('ro') === '1' && bus !== 'sata' && bus !== 'ide' ? { readOnly: true } : {}) },
    file: { name, file, format, ...(capacity === undefined ? {} : { capacity }) },
  };
}

function readNet(key: string, value: string, o: ReadOptions, w: Warnings): SpecNic | undefined {
  const p = propertyString(value);
  const [modelKey, macRaw] = p.first !== undefined ? p.first.split('=') : (() => {
    const m = [...p.props].find(([k]) => !['bridge', 'firewall', 'tag', 'rate', 'queues', 'mtu', 'link_down', 'trunks', 'macaddr', 'model'].includes(k));
    return m ? [m[0], m[1]] : [p.props.get('model') ?? 'virtio', p.props.get('macaddr')];
  })();
  const model = nicModelFor(modelKey!, o, w, key);
  const mac = macOf(macRaw);
  if (macRaw && !mac) w.add(key, `the MAC ${macRaw} is not a MAC address; a new one is chosen`);
  const bridge = p.props.get('bridge');
  if (bridge !== undefined) w.add(`${key}.bridge`, `the bridge ${bridge} is not kept: the NIC uses user-mode networking (attach it to a Polyvisor network after import)`);
  for (const opt of ['tag', 'rate', 'firewall', 'queues', 'mtu', 'trunks', 'link_down']) {
    if (p.props.has(opt) && !(opt === 'firewall' && p.props.get(opt) === '0')) w.add(`${key}.${opt}`, `${opt}=${p.props.get(opt)} is not kept`);
  }
  return { name: key, model, ...(mac ? { mac } : {}) };
}
