/** `polyvisor host show`: the answering host's topology and devices as tables (issue 22; docs/topology.md). */
import type { HostInventoryView } from '../client/index.js';
import { formatCpuList } from '../spec/index.js';
import { formatBytes, table } from './format.js';

/** Flags that matter for VMs, shown by name when the CPU has them (the JSON has all of them). */
const NOTABLE_FLAGS = ['vmx', 'svm', 'x2apic', 'avx2', 'avx512f', 'pdpe1gb', 'aes', 'rdrand', 'pku', 'la57'];

const pages = (p: { total: number; free: number } | undefined): string => (p ? `${p.free}/${p.total}` : '-');
const opt = (v: number | string | undefined): string => (v === undefined ? '-' : String(v));

export function inventoryText(inv: HostInventoryView): string {
  const out: string[] = [];
  const c = inv.cpu;
  out.push(`host ${inv.host} (read ${inv.readAt})\n`);
  out.push(c
    ? `CPU: ${c.model} (${c.vendor}): ${c.sockets} socket${c.sockets === 1 ? '' : 's'}, ${c.cores} cores, ${inv.cpus.length} online (${formatCpuList(inv.cpus)})\n`
      + `flags: ${c.flags.length} (${NOTABLE_FLAGS.filter((f) => c.flags.includes(f)).join(' ') || 'none of note'})\n`
    : `CPU: ${inv.cpus.length} online (${formatCpuList(inv.cpus)}); /proc/cpuinfo not readable\n`);
  out.push(`hugepages (host): 2M ${pages(inv.hugepages['2M'])} free, 1G ${pages(inv.hugepages['1G'])} free\n`);
  out.push(`IOMMU: ${inv.iommu ? 'on' : 'off (no device has an IOMMU group: no PCI passthrough)'}\n\n`);
  out.push(table(['NODE', 'CPUS', 'MEMORY', 'FREE', '2M FREE/TOTAL', '1G FREE/TOTAL', 'DISTANCES'], inv.nodes.map((n) => [
    String(n.id), formatCpuList(n.cpus), formatBytes(n.memoryBytes), n.freeBytes === undefined ? '-' : formatBytes(n.freeBytes),
    pages(n.hugepages['2M']), pages(n.hugepages['1G']), n.distances?.join(' ') ?? '-',
  ])));
  if (inv.gpus.length) {
    out.push('\n');
    out.push(table(['GPU', 'VENDOR', 'MODEL', 'KIND', 'DRIVER', 'IOMMU GROUP', 'NODE', 'MEMORY'], inv.gpus.map((g) => [
      g.address, g.vendorName, g.model, g.kind, opt(g.driver), opt(g.iommuGroup), opt(g.numaNode), g.memoryBytes === undefined ? '-' : formatBytes(g.memoryBytes),
    ])));
    const types = inv.gpus.flatMap((g) => g.mdevTypes.map((t) => [g.address, t.type, t.name, String(t.available), t.framebufferBytes === undefined ? '-' : formatBytes(t.framebufferBytes)]));
    if (types.length) out.push('\n', table(['PARENT', 'MDEV TYPE', 'NAME', 'AVAILABLE', 'FRAMEBUFFER'], types));
  } else out.push('\nGPUs: none\n');
  out.push('\n');
  out.push(table(['PCI', 'ID', 'CLASS', 'DRIVER', 'IOMMU GROUP', 'NODE', 'NAME'], inv.pci.map((p) => [
    p.address, `${p.vendor}:${p.device}`, p.class, opt(p.driver), opt(p.iommuGroup), opt(p.numaNode), [p.vendorName, p.deviceName].filter(Boolean).join(' ') || '-',
  ])));
  return out.join('');
}
