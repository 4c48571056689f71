/**
 * Proxmox's descriptions of a guest mapped to Polyvisor's neutral fields:
 * a /cluster/resources row, its config (GET .../config) and its run state.
 * Pure functions.
 */
import type { ForeignDisk, ForeignNic, ForeignVm, ForeignVmState } from '../endpoint.js';

/** One guest of GET /cluster/resources?type=vm (qemu rows only). */
export interface ResourceRow {
  id: string;
  type: string;
  node: string;
  vmid: number;
  name: string;
  status: string;
  lock?: string;
  template?: number;
  maxcpu?: number;
  maxmem?: number;
  mem?: number;
  cpu?: number;
  netin?: number;
  netout?: number;
  diskread?: number;
  diskwrite?: number;
}

export type PveConfig = Record<string, string | number | undefined>;

/** The qemu rows of a /cluster/resources answer; ENDPOINT_PROTOCOL-worthy rows are skipped by the caller's check. */
export function qemuRows(data: unknown): ResourceRow[] {
  if (!Array.isArray(data)) return [];
  return data
    .filter((r): r is Record<string, unknown> => !!r && typeof r === 'object' && (r as { type?: unknown }).type === 'qemu')
    .map((r) => ({ ...r, vmid: Number(r['vmid']), name: typeof r['name'] === 'string' ? r['name'] : `VM ${String(r['vmid'])}`, node: String(r['node']) }) as ResourceRow);
}

export const vmId = (node: string, vmid: number): string => `${node}/${vmid}`;

/**
 * status is the QEMU process's; qmpstatus says whether its vCPUs run; a
 * stopped guest with lock "suspended" was hibernated (RAM on disk).
 */
export function stateOf(status: string | undefined, qmpstatus: string | undefined, lock: string | undefined): ForeignVmState {
  if (status === 'running') return qmpstatus === 'paused' || qmpstatus === 'suspended' || qmpstatus === 'prelaunch' ? 'paused' : 'running';
  if (status === 'stopped') return lock === 'suspended' ? 'suspended' : 'stopped';
  return 'unknown';
}

/** `memory` is MiB, plain or as the property string "current=N". */
export function memoryMiB(v: string | number | undefined): number {
  if (v === undefined) return 512;
  const m = /(?:^|,)(?:current=)?(\d+)(?:,|$)/.exec(String(v));
  return m ? Number(m[1]) : 512;
}

export function cpusOf(conf: PveConfig): number {
  if (conf['vcpus'] !== undefined) return Number(conf['vcpus']);
  return Number(conf['sockets'] ?? 1) * Number(conf['cores'] ?? 1);
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Bytes of a drive's size=NNG option. */
export function sizeOf(spec: string): number | null {
  const m = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT]?)(?:,|$)/.exec(spec);
  return m ? Math.round(Number(m[1]) * SIZE_UNITS[m[2]!]!) : null;
}

const DRIVE = /^(scsi|virtio|sata|ide)\d+$/;

/** Hard disks, in the order of `boot: order=...` first, then by bus and number; CD-ROMs and empty drives left out. */
export function disksOf(conf: PveConfig): ForeignDisk[] {
  const order = /order=([^,]+)/.exec(String(conf['boot'] ?? ''))?.[1]?.split(';') ?? [];
  const keys = Object.keys(conf).filter((k) => DRIVE.test(k)).sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    if (ia !== ib) return (ia < 0 ? 1e6 : ia) - (ib < 0 ? 1e6 : ib);
    return a.localeCompare(b, 'en', { numeric: true });
  });
  const out: ForeignDisk[] = [];
  for (const k of keys) {
    const spec = String(conf[k]);
    if (/(?:^|,)media=cdrom(?:,|$)/.test(spec) || spec.startsWith('none')) continue;
    const volume = spec.split(',')[0]!;
    const fmt = /(?:^|,)format=(\w+)/.exec(spec)?.[1] ?? /\.(qcow2|raw|vmdk)$/.exec(volume)?.[1] ?? null;
    out.push({ name: k, sizeBytes: sizeOf(spec), location: volume, format: fmt });
  }
  return out;
}

const NIC_MODELS = new Set(['virtio', 'e1000', 'e1000e', 'rtl8139', 'vmxnet3', 'i82551', 'i82557b', 'i82559er', 'ne2k_isa', 'ne2k_pci', 'pcnet']);

export function nicsOf(conf: PveConfig): ForeignNic[] {
  return Object.keys(conf)
    .filter((k) => /^net\d+$/.test(k))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((k) => {
      const parts = String(conf[k]).split(',').map((p) => p.split('=') as [string, string?]);
      const model = parts.find(([key]) => NIC_MODELS.has(key) || key.startsWith('e1000'));
      const mac = model?.[1] ?? parts.find(([key]) => key === 'macaddr')?.[1] ?? null;
      const bridge = parts.find(([key]) => key === 'bridge')?.[1] ?? null;
      return { mac: mac ? mac.toLowerCase() : null, network: bridge, model: model?.[0] ?? parts.find(([key]) => key === 'model')?.[1] ?? null };
    });
}

const OS: Record<string, string> = {
  l26: 'Linux (2.6 or later kernel)', l24: 'Linux 2.4', win11: 'Windows 11/2022/2025', win10: 'Windows 10/2016/2019', win8: 'Windows 8/2012',
  win7: 'Windows 7/2008r2', wvista: 'Windows Vista/2008', w2k8: 'Windows 2008', w2k3: 'Windows 2003', w2k: 'Windows 2000', wxp: 'Windows XP',
  solaris: 'Solaris', other: 'other',
};

export function toForeignVm(row: Pick<ResourceRow, 'node' | 'vmid' | 'name' | 'status' | 'lock'>, conf: PveConfig, qmpstatus?: string): ForeignVm {
  const ostype = conf['ostype'] === undefined ? null : String(conf['ostype']);
  return {
    id: vmId(row.node, row.vmid),
    name: typeof conf['name'] === 'string' ? conf['name'] : row.name,
    state: stateOf(row.status, qmpstatus, (conf['lock'] as string | undefined) ?? row.lock),
    cpus: cpusOf(conf),
    memoryBytes: memoryMiB(conf['memory']) * 1024 * 1024,
    host: row.node,
    guestOs: ostype ? (OS[ostype] ?? ostype) : null,
    firmware: conf['bios'] === 'ovmf' ? 'uefi' : 'bios',
    disks: disksOf(conf),
    nics: nicsOf(conf),
  };
}
