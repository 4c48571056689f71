/**
 * A spec's topology and devices against what one host has: pinned CPUs that
 * exist, guest nodes that fit their host nodes, free hugepages, PCI devices
 * whose IOMMU group can be given away whole, mdev types with a free instance.
 * Pure (the host is a HostTopologyFacts); each problem names the field and
 * the host's actual value. Also resolves vendor:device selectors and mdev
 * parents to the PCI addresses QEMU gets.
 */
import { formatCpuList, parseCpuList } from './cpu-list.js';
import type { HostPciDevice, HostTopologyFacts } from './host-topology-facts.js';
import type { FieldProblem } from './problems.js';
import type { VmSpec } from './schema.js';
import { HUGEPAGE_BYTES, isPciAddress } from './topology-schema.js';
import { formatSize } from './units.js';

/** Drivers a device may keep while its IOMMU group goes to a guest: VFIO's own, and PCI bridges (the kernel allows them). */
export const GROUP_SAFE_DRIVERS: ReadonlySet<string> = new Set(['vfio-pci', 'pci-stub', 'pcieport']);

export interface ResolvedDevices {
  /** PCI address per devices.hostdev entry (the mdev parent for an mdev entry). */
  hostdev: string[];
  /** devices.gpu: the passed-through device, or the parent of its mdev. */
  gpu?: string;
}

export interface HostCheck {
  problems: FieldProblem[];
  devices: ResolvedDevices;
}

/** `inUse`: PCI addresses other VMs of this host already hold. */
export function checkAgainstHost(spec: VmSpec, host: HostTopologyFacts, inUse: ReadonlySet<string> = new Set()): HostCheck {
  const problems: FieldProblem[] = [];
  const add = (field: string, message: string) => problems.push({ field, message });
  cpuProblems(spec, host, add);
  memoryProblems(spec, host, add);
  const devices = deviceProblems(spec, host, inUse, add);
  return { problems, devices };
}

type Add = (field: string, message: string) => void;
const hostCpus = (h: HostTopologyFacts): string => `this host has CPUs ${formatCpuList(h.cpus)}`;

function cpuProblems(spec: VmSpec, host: HostTopologyFacts, add: Add): void {
  const p = spec.cpu.pinning;
  if (!p) return;
  const online = new Set(host.cpus);
  const check = (field: string, list: string) => {
    const missing = (parseCpuList(list) ?? []).filter((c) => !online.has(c));
    if (missing.length) add(field, `host CPU${missing.length > 1 ? 's' : ''} ${formatCpuList(missing)} ${missing.length > 1 ? 'do' : 'does'} not exist: ${hostCpus(host)} (${host.cpus.length} online)`);
  };
  for (const [v, list] of Object.entries(p.vcpus ?? {})) check(`cpu.pinning.vcpus.${v}`, list);
  if (p.emulator !== undefined) check('cpu.pinning.emulator', p.emulator);
  if (p.iothreads !== undefined) check('cpu.pinning.iothreads', p.iothreads);
}

function memoryProblems(spec: VmSpec, host: HostTopologyFacts, add: Add): void {
  const lay = spec.memoryLayout;
  if (!lay) return;
  const nodes = new Map(host.nodes.map((n) => [n.id, n]));
  const hostNodeIds = `this host has node${host.nodes.length === 1 ? '' : 's'} ${formatCpuList(host.nodes.map((n) => n.id)) || '(none)'}`;
  (lay.numa ?? []).forEach((g, i) => {
    if (g.hostNodes === undefined) return;
    const ids = parseCpuList(g.hostNodes) ?? [];
    const missing = ids.filter((id) => !nodes.has(id));
    if (missing.length) {
      add(`memory.numa.${i}.hostNodes`, `host node ${formatCpuList(missing)} does not exist: ${hostNodeIds}`);
      return;
    }
    const have = ids.reduce((a, id) => a + nodes.get(id)!.memoryBytes, 0);
    if ((g.policy ?? 'bind') !== 'preferred' && g.memory > have) {
      add(`memory.numa.${i}.memory`, `${formatSize(g.memory)} is more than host node${ids.length > 1 ? 's' : ''} ${g.hostNodes} ha${ids.length > 1 ? 've' : 's'} (${formatSize(have)})`);
    }
  });
  const hp = lay.hugepages;
  if (!hp) return;
  const page = HUGEPAGE_BYTES[hp.size];
  const pools: Array<{ where: string; field: string; bytes: number; pages: { total: number; free: number } | undefined }> = [];
  const nodePool = (ids: number[]) => ids.reduce<{ total: number; free: number } | undefined>((acc, id) => {
    const hpn = nodes.get(id)?.hugepages[hp.size];
    return hpn === undefined ? acc : { total: (acc?.total ?? 0) + hpn.total, free: (acc?.free ?? 0) + hpn.free };
  }, undefined);
  const bound = (lay.numa ?? []).filter((g) => g.hostNodes !== undefined);
  if (bound.length) {
    (lay.numa ?? []).forEach((g, i) => {
      if (g.hostNodes !== undefined) pools.push({ where: `host node ${g.hostNodes}`, field: `memory.numa.${i}.memory`, bytes: g.memory, pages: nodePool(parseCpuList(g.hostNodes) ?? []) });
    });
  } else if (hp.hostNode !== undefined) {
    if (!nodes.has(hp.hostNode)) add('memory.hugepages.hostNode', `host node ${hp.hostNode} does not exist: ${hostNodeIds}`);
    else pools.push({ where: `host node ${hp.hostNode}`, field: 'memory.hugepages', bytes: spec.memory, pages: nodePool([hp.hostNode]) });
  } else {
    pools.push({ where: 'the host', field: 'memory.hugepages', bytes: spec.memory, pages: host.hugepages[hp.size] });
  }
  for (const p of pools) {
    const need = Math.ceil(p.bytes / page);
    if (p.pages === undefined) add(p.field, `${p.where} offers no ${hp.size} hugepages (the kernel has no hugepages-${page / 1024}kB pool)`);
    else if (p.pages.free < need) add(p.field, `needs ${need} free ${hp.size} hugepages, ${p.where} has ${p.pages.free} free of ${p.pages.total} (raise vm.nr_hugepages)`);
  }
}

function deviceProblems(spec: VmSpec, host: HostTopologyFacts, inUse: ReadonlySet<string>, add: Add): ResolvedDevices {
  const d = spec.devices;
  const out: ResolvedDevices = { hostdev: [] };
  if (!d) return out;
  const byAddr = new Map(host.pci.map((p) => [p.address, p]));
  const taken = new Set<string>();
  const wholeDevices: Array<{ field: string; dev: HostPciDevice }> = [];
  const find = (field: string, sel: string, mdevType?: string): HostPciDevice | undefined => {
    if (isPciAddress(sel)) {
      const dev = byAddr.get(sel);
      if (!dev) add(field, `this host has no PCI device ${sel}`);
      return dev;
    }
    const [vendor, device] = sel.split(':');
    const all = host.pci.filter((p) => p.vendor === vendor && p.device === device);
    const free = [...all].sort((a, b) => Number(b.driver === 'vfio-pci') - Number(a.driver === 'vfio-pci')).filter((p) => !inUse.has(p.address) && (mdevType !== undefined || !taken.has(p.address)) && (mdevType === undefined || p.mdevTypes.some((t) => t.type === mdevType && t.available > 0)));
    if (!free[0]) add(field, all.length ? `every ${sel} device of this host (${all.map((p) => p.address).join(', ')}) is taken` : `this host has no PCI device ${sel}`);
    return free[0];
  };
  const mdev = (field: string, dev: HostPciDevice, type: string) => {
    const t = dev.mdevTypes.find((x) => x.type === type);
    if (!t) add(field, dev.mdevTypes.length ? `${dev.address} offers no mdev type ${type}; it offers ${dev.mdevTypes.map((x) => x.type).join(', ')}` : `${dev.address} offers no mediated devices (no mdev_supported_types)`);
    else if (t.available < 1) add(field, `${dev.address} has no free instance of ${type} (${t.name}): available_instances is 0`);
  };
  const whole = (field: string, dev: HostPciDevice) => {
    if (inUse.has(dev.address)) add(field, `${dev.address} is already given to another VM of this host`);
    else if (dev.driver !== 'vfio-pci') add(field, `${dev.address} is bound to ${dev.driver === undefined ? 'no driver' : `the host driver ${dev.driver}`}, not vfio-pci: bind it to vfio-pci first (driverctl set-override ${dev.address} vfio-pci)`);
    taken.add(dev.address);
    wholeDevices.push({ field, dev });
  };
  (d.hostdev ?? []).forEach((h, i) => {
    const field = `devices.hostdev.${i}.pci`;
    const dev = find(field, h.pci, h.mdevType);
    if (!dev) return;
    out.hostdev[i] = dev.address;
    if (h.mdevType !== undefined) mdev(`devices.hostdev.${i}.mdevType`, dev, h.mdevType);
    else whole(field, dev);
  });
  const gpu = d.gpu;
  if (gpu?.kind === 'passthrough') {
    const dev = find('devices.gpu.pci', gpu.pci);
    if (dev) {
      out.gpu = dev.address;
      whole('devices.gpu.pci', dev);
    }
  } else if (gpu?.kind === 'mediated') {
    const dev = gpu.parent !== undefined ? find('devices.gpu.parent', gpu.parent, gpu.mdevType) : host.pci.find((p) => p.mdevTypes.some((t) => t.type === gpu.mdevType && t.available > 0));
    if (!dev && gpu.parent === undefined) {
      const offered = host.pci.filter((p) => p.mdevTypes.some((t) => t.type === gpu.mdevType));
      add('devices.gpu.mdevType', offered.length ? `no free instance of ${gpu.mdevType} on ${offered.map((p) => p.address).join(', ')}` : `no device of this host offers mdev type ${gpu.mdevType}`);
    } else if (dev) {
      out.gpu = dev.address;
      mdev('devices.gpu.mdevType', dev, gpu.mdevType);
    }
  } else if (gpu?.kind === 'paravirtual' && !host.renderNodes.includes(gpu.renderNode)) {
    add('devices.gpu.renderNode', `this host has no ${gpu.renderNode} (render nodes: ${host.renderNodes.join(', ') || 'none'})`);
  }
  for (const { field, dev } of wholeDevices) groupProblems(field, dev, host, taken, inUse, add);
  return out;
}

/**
 * VFIO gives a guest a whole IOMMU group: every other endpoint in it must be the VM's too, or idle (vfio-pci,
 * pci-stub, unbound) and not given to another VM (one VFIO group opens in one VM only).
 */
function groupProblems(field: string, dev: HostPciDevice, host: HostTopologyFacts, taken: ReadonlySet<string>, inUse: ReadonlySet<string>, add: Add): void {
  if (dev.iommuGroup === undefined) {
    add(field, `${dev.address} is in no IOMMU group: the host's IOMMU is off (boot with intel_iommu=on or amd_iommu=on)`);
    return;
  }
  const others = host.pci.filter((p) => p.iommuGroup === dev.iommuGroup && p.address !== dev.address && !taken.has(p.address));
  const busy = others.filter((p) => p.driver !== undefined && !GROUP_SAFE_DRIVERS.has(p.driver));
  if (busy.length) {
    add(field, `IOMMU group ${dev.iommuGroup} of ${dev.address} also holds ${busy.map((p) => `${p.address} (driver ${p.driver})`).join(', ')}, which the host uses: give ${busy.length > 1 ? 'them' : 'it'} to the VM too, or bind ${busy.length > 1 ? 'them' : 'it'} to vfio-pci`);
  }
  const elsewhere = others.filter((p) => inUse.has(p.address));
  if (elsewhere.length) {
    add(field, `IOMMU group ${dev.iommuGroup} of ${dev.address} also holds ${elsewhere.map((p) => p.address).join(', ')}, which another VM of this host has: a group goes to one VM whole`);
  }
}
