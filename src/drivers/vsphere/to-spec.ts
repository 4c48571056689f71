/**
 * A vSphere VM's config (VirtualMachineConfigInfo) → Polyvisor's VmSpec, and
 * the list of what did not map. Pure. The disks become `size` entries of the
 * disk's capacity (the import replaces them by the downloaded files), in
 * device order; NICs become user-mode networks keeping their MACs.
 */
import { validateSpec, type VmSpec } from '../../spec/index.js';
import { readDevices } from './devices.js';
import { num, text, type Node } from './soap-envelope.js';

const MiB = 1024 * 1024;

/** A Polyvisor name from a vSphere display name (which allows spaces and more). */
export function specName(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/\.\.+/g, '.').replace(/[-.]+$/, '').slice(0, 63);
  return s || 'vsphere-vm';
}

const BUS: Record<string, 'scsi' | 'sata' | 'virtio'> = {
  VirtualLsiLogicController: 'scsi',
  VirtualLsiLogicSASController: 'scsi',
  ParaVirtualSCSIController: 'scsi',
  VirtualBusLogicController: 'scsi',
  VirtualAHCIController: 'sata',
  VirtualIDEController: 'sata',
  VirtualNVMEController: 'virtio',
};

export function vmToSpec(nameVal: unknown, config: Node | undefined): { spec: VmSpec; lossy: string[] } {
  const lossy: string[] = [];
  const vsName = text(nameVal) ?? 'vm';
  const name = specName(vsName);
  if (name !== vsName) lossy.push(`name "${vsName}" became "${name}" (Polyvisor names are lowercase letters, digits, . _ -)`);
  const hw = (config?.hardware ?? {}) as Node;
  const cpus = Math.min(256, Math.max(1, num(hw.numCPU) ?? 1));
  const perSocket = num(hw.numCoresPerSocket) ?? 1;
  const cpu = perSocket > 1 && cpus % perSocket === 0 && cpus / perSocket <= 16 ? { count: cpus, sockets: cpus / perSocket, cores: perSocket } : { count: cpus };
  const memoryMiB = Math.max(16, num(hw.memoryMB) ?? 256);
  const dev = readDevices(hw.device);
  const disks = dev.disks.map((d, i) => {
    const ctrl = d.controllerKey !== null ? dev.controllers.get(d.controllerKey) : undefined;
    const bus = (ctrl && BUS[ctrl]) ?? 'scsi';
    if (ctrl === 'VirtualIDEController') lossy.push(`disk "${d.name}" was on IDE: mapped to SATA`);
    if (ctrl === 'VirtualNVMEController') lossy.push(`disk "${d.name}" was on NVMe: mapped to virtio`);
    return { name: `disk${i}`, size: Math.max(MiB, d.sizeBytes ?? MiB), bus, format: 'qcow2' as const };
  });
  const networks = dev.nics.map((n, i) => {
    const model = n.model === 'e1000' ? ('e1000' as const) : ('virtio' as const);
    if (n.model !== model) lossy.push(`NIC ${i} model ${n.model} became ${model}`);
    if (n.network) lossy.push(`NIC ${i} was on vSphere network "${n.network}": it becomes user-mode networking`);
    const mac = n.mac?.toLowerCase();
    return { name: `net${i}`, model, ...(mac && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) ? { mac } : {}) };
  });
  const firmware = text(config?.firmware) === 'efi' ? 'uefi' : 'bios';
  const others = [...new Set(dev.others)].filter((t) => !['VirtualKeyboard', 'VirtualPointingDevice', 'VirtualPCIController', 'VirtualSIOController', 'VirtualMachineVideoCard', 'VirtualMachineVMCIDevice'].includes(t));
  for (const t of others) lossy.push(`device ${t} is not carried over`);
  const guestId = text(config?.guestId);
  if (guestId) lossy.push(`guest OS type ${guestId} is kept as the label vsphere-guest-id only`);
  if (text(config?.hardware && (config.hardware as Node).virtualICH7MPresent) === 'true') lossy.push('ICH7M chipset is not carried over');
  lossy.push('resource allocation (reservations, limits, shares), extraConfig and VMware Tools settings are not carried over');
  const labelGuest = guestId && /^[A-Za-z0-9._-]{1,63}$/.test(guestId) ? { 'vsphere-guest-id': guestId } : {};
  const spec = validateSpec({
    name,
    description: (text(config?.annotation) ?? '').slice(0, 1024),
    labels: labelGuest,
    cpu,
    memory: memoryMiB,
    boot: { firmware },
    disks,
    networks,
  });
  return { spec, lossy };
}
