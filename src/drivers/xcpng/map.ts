/**
 * An XCP-ng VM (its XAPI record and the records it points at) as Polyvisor
 * sees it: the neutral ForeignVm of the inventory, and a VmSpec for moving
 * it to local QEMU with the list of what does not carry over. Pure.
 *
 * - state: Halted → stopped, Running → running, Paused → paused, Suspended → suspended.
 * - CPUs: VCPUs_at_startup (what it boots with); memory: memory_static_max.
 * - firmware: HVM_boot_params.firmware "uefi" → uefi, other HVM → bios; a PV guest (no HVM_boot_policy) has none.
 * - disks: the VBDs of type Disk in userdevice order, named by their device (xvda…); CD drives are left out.
 */
import { validateSpec, type VmSpec } from '../../spec/index.js';
import type { ForeignVm, ForeignVmState } from '../endpoint.js';
import type { PoolRecords } from './context.js';
import { int, NULL_REF, type Ref, type VbdRecord, type VmRecord } from './records.js';

const MiB = 1024 * 1024;

const STATES: Record<string, ForeignVmState> = { Halted: 'stopped', Running: 'running', Paused: 'paused', Suspended: 'suspended' };

export function stateOf(power: string): ForeignVmState {
  return STATES[power] ?? 'unknown';
}

export function firmwareOf(r: VmRecord): 'bios' | 'uefi' | null {
  if (!r.HVM_boot_policy) return null;
  return r.HVM_boot_params?.['firmware'] === 'uefi' ? 'uefi' : 'bios';
}

/** The VM's disk VBDs (non-empty, type Disk) with their VDI refs, in userdevice order. */
export function diskVbds(r: VmRecord, recs: Pick<PoolRecords, 'vbds'>): Array<VbdRecord & { ref: Ref }> {
  return r.VBDs.map((ref) => ({ ...recs.vbds[ref]!, ref }))
    .filter((b) => b.VM !== undefined && b.type === 'Disk' && !b.empty && b.VDI !== NULL_REF)
    .sort((a, b) => Number(a.userdevice) - Number(b.userdevice));
}

export const diskLabel = (b: VbdRecord): string => (b.device ? b.device : `disk${b.userdevice}`);

export function toForeignVm(r: VmRecord, recs: PoolRecords): ForeignVm {
  return {
    id: r.uuid,
    name: r.name_label,
    state: stateOf(r.power_state),
    cpus: int(r.VCPUs_at_startup),
    memoryBytes: int(r.memory_static_max),
    host: r.resident_on !== NULL_REF ? recs.hosts[r.resident_on]?.name_label ?? null : null,
    guestOs: recs.guestOs[r.guest_metrics] ?? r.other_config?.['base_template_name'] ?? null,
    firmware: firmwareOf(r),
    disks: diskVbds(r, recs).map((b) => {
      const vdi = recs.vdis[b.VDI];
      return { name: diskLabel(b), sizeBytes: vdi ? int(vdi.virtual_size) : null, location: vdi ? `${recs.srs[vdi.SR]?.name_label ?? vdi.SR}/${vdi.uuid}` : null, format: 'vhd' };
    }),
    nics: r.VIFs.map((v) => recs.vifs[v]).filter((v) => v !== undefined).sort((a, b) => Number(a.device) - Number(b.device))
      .map((v) => ({ mac: v.MAC ? v.MAC.toLowerCase() : null, network: recs.networks[v.network]?.name_label ?? null, model: null })),
  };
}

/** A Polyvisor name from an XCP-ng name_label (which allows spaces and more). */
export function specName(label: string): string {
  const s = label.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/\.\.+/g, '.').replace(/[-.]+$/, '').slice(0, 63);
  return s || 'xcpng-vm';
}

const KNOWN_PLATFORM = new Set(['acpi', 'apic', 'pae', 'nx', 'hpet', 'timeoffset', 'device-model', 'secureboot', 'cores-per-socket']);

export function toSpec(r: VmRecord, recs: PoolRecords): { spec: VmSpec; lossy: string[] } {
  const lossy: string[] = [];
  const name = specName(r.name_label);
  if (name !== r.name_label) lossy.push(`name "${r.name_label}" became "${name}" (Polyvisor names are lowercase letters, digits, . _ -)`);
  const cpus = Math.min(256, Math.max(1, int(r.VCPUs_at_startup) || 1));
  const max = int(r.VCPUs_max);
  if (max > cpus) lossy.push(`VCPUs_max ${max} (vCPUs hot-plugged up to that) is not carried over: the VM gets ${cpus}`);
  const perSocket = Number(r.platform?.['cores-per-socket'] ?? 0);
  const cpu = perSocket > 1 && cpus % perSocket === 0 && cpus / perSocket <= 16 ? { count: cpus, sockets: cpus / perSocket, cores: perSocket } : { count: cpus };
  const memory = Math.max(16, Math.round(int(r.memory_static_max) / MiB));
  if (int(r.memory_dynamic_max) && int(r.memory_dynamic_max) < int(r.memory_static_max)) {
    lossy.push(`dynamic memory (ballooning between ${Math.round(int(r.memory_static_min) / MiB)} and ${Math.round(int(r.memory_dynamic_max) / MiB)} MiB) is not carried over: the VM gets ${memory} MiB`);
  }
  const fw = firmwareOf(r);
  if (fw === null) {
    lossy.push(`a PV guest (${r.PV_bootloader ? `bootloader ${r.PV_bootloader}` : `kernel ${r.PV_kernel || 'given by the host'}`}) becomes an HVM guest booting its first disk by BIOS: the disk needs its own boot loader`);
  }
  if (r.platform?.['secureboot'] === 'true') lossy.push('Secure Boot is not carried over');
  if (r.platform?.['viridian'] === 'true') lossy.push('Viridian (Hyper-V enlightenments for Windows) is not carried over');
  const others = Object.keys(r.platform ?? {}).filter((k) => !KNOWN_PLATFORM.has(k) && k !== 'viridian');
  if (others.length) lossy.push(`platform flags ${others.sort().join(', ')} are not carried over`);
  const disks = diskVbds(r, recs).map((b) => {
    const vdi = recs.vdis[b.VDI];
    if (b.mode === 'RO') lossy.push(`disk ${diskLabel(b)} was read-only: it becomes writable`);
    return { name: diskLabel(b), size: Math.max(MiB, vdi ? int(vdi.virtual_size) : MiB), bus: 'virtio' as const, format: 'qcow2' as const };
  });
  if (disks.length) lossy.push('disks were Xen virtual block devices (xvd*): they become virtio disks');
  const cds = r.VBDs.map((v) => recs.vbds[v]).filter((b) => b && b.type === 'CD');
  if (cds.length) lossy.push(`${cds.length} CD drive(s) ${cds.some((b) => !b!.empty) ? '(with an ISO of the pool\'s SR) ' : ''}are not carried over`);
  const networks = r.VIFs.map((v) => recs.vifs[v]).filter((v) => v !== undefined).sort((a, b) => Number(a.device) - Number(b.device)).map((v, i) => {
    const net = recs.networks[v.network]?.name_label;
    if (net) lossy.push(`NIC ${i} was on XCP-ng network "${net}": it becomes user-mode networking`);
    const mac = v.MAC?.toLowerCase();
    return { name: `net${i}`, model: 'virtio' as const, ...(mac && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) ? { mac } : {}) };
  });
  if (r.snapshots?.length) lossy.push(`${r.snapshots.length} snapshot(s) stay on XCP-ng: only the current disks are copied`);
  const template = r.other_config?.['base_template_name'];
  const labels = template && /^[A-Za-z0-9._ -]{1,63}$/.test(template) ? { 'xcpng-template': template.replace(/ /g, '_') } : {};
  const spec = validateSpec({
    name,
    description: (r.name_description ?? '').slice(0, 1024),
    labels,
    cpu,
    memory,
    boot: { firmware: fw ?? 'bios' },
    disks,
    networks,
  });
  return { spec, lossy };
}
