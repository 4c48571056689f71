/**
 * What the fake Proxmox VE cluster holds: nodes and QEMU guests with their
 * config, run state, locks and snapshot tree, kept the way qemu-server keeps
 * them (a `parent` key on the config and on each snapshot, `lock`, `vmstate`
 * after a hibernation), and the errors its Perl code dies with.
 */
import { createHash } from 'node:crypto';

/** An error as the fake answers it: HTTP status, reason phrase, optional per-parameter errors. */
export class PveError extends Error {
  constructor(readonly status: number, message: string, readonly errors?: Record<string, string>) {
    super(message);
  }
}

/** qemu-server's `die "...\n"` inside an API call: 500 with the text as the reason phrase. */
export const die = (msg: string): never => {
  throw new PveError(500, msg);
};
export const paramError = (errors: Record<string, string>): never => {
  throw new PveError(400, 'Parameter verification failed.', errors);
};

export interface VmConf {
  name: string;
  cores: number;
  sockets: number;
  /** MiB, as `memory` holds it. */
  memory: number;
  bios: 'seabios' | 'ovmf';
  ostype: string;
  description?: string;
  /** Disk and NIC keys as the config file holds them (scsi0, virtio1, ide2, net0…). */
  devices: Record<string, string>;
}

export interface Snapshot {
  name: string;
  parent?: string;
  snaptime: number;
  description: string;
  vmstate: boolean;
  conf: VmConf;
}

export interface Vm {
  vmid: number;
  node: string;
  conf: VmConf;
  status: 'running' | 'stopped';
  /** QMP's run state while the process runs. */
  qmp: 'running' | 'paused';
  lock?: string;
  /** The snapshot the VM runs from. */
  parent?: string;
  /** Volume with RAM saved by a hibernation (lock "suspended"). */
  vmstate?: string;
  snapshots: Map<string, Snapshot>;
  startedAt: number;
}

export interface VmSeed {
  vmid: number;
  node: string;
  name: string;
  cores?: number;
  sockets?: number;
  memoryMiB?: number;
  bios?: 'seabios' | 'ovmf';
  ostype?: string;
  running?: boolean;
  devices?: Record<string, string>;
}

export const DEFAULT_NODES = ['pve1', 'pve2'];

/** Two nodes; a stopped "web", a running "db", two VMs both named "dup", a UEFI Windows guest. */
export const DEFAULT_VMS: VmSeed[] = [
  { vmid: 100, node: 'pve1', name: 'web', cores: 2, memoryMiB: 2048 },
  { vmid: 101, node: 'pve1', name: 'db', cores: 4, memoryMiB: 4096, running: true },
  { vmid: 102, node: 'pve1', name: 'dup' },
  { vmid: 103, node: 'pve2', name: 'dup' },
  { vmid: 104, node: 'pve2', name: 'win', bios: 'ovmf', ostype: 'win11', memoryMiB: 8192, devices: { sata0: 'local-lvm:vm-104-disk-1,size=64G', efidisk0: 'local-lvm:vm-104-disk-0,efitype=4m,size=4M', net0: 'e1000=BC:24:11:00:01:04,bridge=vmbr0' } },
];

export class Cluster {
  readonly vms = new Map<number, Vm>();

  constructor(readonly nodes: string[], seeds: VmSeed[]) {
    for (const s of seeds) this.add(s);
  }

  add(s: VmSeed): Vm {
    const hex = s.vmid.toString(16).padStart(4, '0');
    const vm: Vm = {
      vmid: s.vmid,
      node: s.node,
      conf: {
        name: s.name,
        cores: s.cores ?? 1,
        sockets: s.sockets ?? 1,
        memory: s.memoryMiB ?? 512,
        bios: s.bios ?? 'seabios',
        ostype: s.ostype ?? 'l26',
        devices: s.devices ?? {
          scsi0: `local-lvm:vm-${s.vmid}-disk-0,iothread=1,size=8G`,
          ide2: 'none,media=cdrom',
          net0: `virtio=BC:24:11:00:${hex.slice(0, 2)}:${hex.slice(2)},bridge=vmbr0,firewall=1`,
        },
      },
      status: s.running ? 'running' : 'stopped',
      qmp: 'running',
      snapshots: new Map(),
      startedAt: Date.now(),
    };
    this.vms.set(s.vmid, vm);
    return vm;
  }

  checkNode(node: string): void {
    if (!this.nodes.includes(node)) die(`no such cluster node '${node}'`);
  }

  /** The VM whose config lives on `node`, as PVE::QemuConfig->load_config finds it. */
  vm(node: string, vmid: number): Vm {
    const vm = this.vms.get(vmid);
    if (!vm || vm.node !== node) die(`Configuration file 'nodes/${node}/qemu-server/${vmid}.conf' does not exist`);
    return vm!;
  }

  nextId(): number {
    let id = 100;
    while (this.vms.has(id)) id++;
    return id;
  }
}

export function checkLock(vm: Vm): void {
  if (vm.lock) die(`VM is locked (${vm.lock})`);
}

export function digestOf(vm: Vm): string {
  return createHash('sha1').update(JSON.stringify([vm.conf, vm.lock ?? '', vm.parent ?? '', vm.vmstate ?? ''])).digest('hex');
}

/** GET .../config: the config file as key → value, the way qemu-server returns it. */
export function configOf(vm: Vm): Record<string, string | number> {
  const c = vm.conf;
  const out: Record<string, string | number> = {
    name: c.name, cores: c.cores, sockets: c.sockets, memory: String(c.memory), bios: c.bios, ostype: c.ostype,
    boot: `order=${Object.keys(c.devices).filter((k) => /^(scsi|virtio|sata|ide)\d+$/.test(k)).join(';')}`,
    scsihw: 'virtio-scsi-single', smbios1: `uuid=00000000-0000-4000-8000-${vm.vmid.toString().padStart(12, '0')}`,
    ...c.devices, digest: digestOf(vm),
  };
  if (c.description) out['description'] = c.description;
  if (vm.lock) out['lock'] = vm.lock;
  if (vm.parent) out['parent'] = vm.parent;
  if (vm.vmstate) out['vmstate'] = vm.vmstate;
  return out;
}

/** Bytes of the root disk from its size=NNG/M/T option. */
export function diskBytes(spec: string): number {
  const m = /(?:^|,)size=(\d+)([KMGT]?)/.exec(spec);
  if (!m) return 0;
  const mul = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Number(m[1]) * mul;
}

/** The figures /status/current, /qemu and /cluster/resources share. */
export function figuresOf(vm: Vm): Record<string, number | string> {
  const up = vm.status === 'running' ? Math.max(1, Math.floor((Date.now() - vm.startedAt) / 1000)) : 0;
  const root = Object.entries(vm.conf.devices).find(([k, v]) => /^(scsi|virtio|sata|ide)\d+$/.test(k) && !v.includes('media=cdrom'));
  const maxmem = vm.conf.memory * 1024 * 1024;
  const run = vm.status === 'running';
  return {
    vmid: vm.vmid, name: vm.conf.name, status: vm.status, cpus: vm.conf.cores * vm.conf.sockets, maxmem,
    mem: run ? Math.floor(maxmem * 0.4) : 0, maxdisk: root ? diskBytes(root[1]) : 0, disk: 0, uptime: up,
    cpu: run ? 0.03 + (vm.vmid % 7) / 100 : 0,
    netin: run ? up * 1500 + vm.vmid : 0, netout: run ? up * 900 + vm.vmid : 0,
    diskread: run ? 40_000_000 + up * 4096 : 0, diskwrite: run ? 1_000_000 + up * 8192 : 0,
  };
}
