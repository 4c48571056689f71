/**
 * Per-VM series rendered straight to the text exposition, with each VM's
 * lines cached between scrapes: a VM whose sample did not change (a stopped
 * VM: same state, vCPUs and memory) costs one string comparison and no
 * formatting. With 1,000 VMs this replaces ~11,000 prom-client label-set
 * lookups and their serialisation on every scrape (docs/data-paths.md).
 */
import type { VmMetricSample } from './types.js';

export const VM_STATES = ['created', 'starting', 'running', 'paused', 'suspended', 'stopping', 'stopped', 'migrating', 'error'] as const;

type Stats = NonNullable<VmMetricSample['stats']>;
type Disk = Stats['disks'][number];
type Nic = Stats['nics'][number];

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  /** Lines of one VM (each ending in a newline), '' when it has none. */
  lines(v: VmMetricSample, vm: string): string;
}

/** Label value as the text format wants it (backslash, quote and newline escaped). */
export function escapeLabel(s: string): string {
  return /[\\"\n]/.test(s) ? s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : s;
}

const num = (n: number): string => (Number.isNaN(n) ? 'NaN' : n === Infinity ? '+Inf' : n === -Infinity ? '-Inf' : String(n));
const one = (name: string, vm: string, value: number | null | undefined): string => (value === null || value === undefined ? '' : `${name}{vm="${vm}"} ${num(value)}\n`);

function perDisk(name: string, pick: (d: Disk) => number): Family['lines'] {
  return (v, vm) => (v.stats?.disks ?? []).map((d) => `${name}{vm="${vm}",disk="${escapeLabel(d.disk)}"} ${num(pick(d))}\n`).join('');
}

function perNic(name: string, pick: (n: Nic) => number): Family['lines'] {
  return (v, vm) => (v.stats?.nics ?? []).map((n) => `${name}{vm="${vm}",nic="${escapeLabel(n.nic)}"} ${num(pick(n))}\n`).join('');
}

function family(name: string, help: string, type: Family['type'], lines: (name: string) => Family['lines']): Family {
  return { name, help, type, lines: lines(name) };
}

const FAMILIES: readonly Family[] = [
  family('polyvisor_vm_state', '1 for the state the VM is in, 0 for the others', 'gauge', (n) => (v, vm) => VM_STATES.map((s) => `${n}{vm="${vm}",state="${s}"} ${v.state === s ? 1 : 0}\n`).join('')),
  family('polyvisor_vm_vcpus', 'vCPUs in the VM spec', 'gauge', (n) => (v, vm) => one(n, vm, v.vcpus)),
  family('polyvisor_vm_memory_bytes', 'Guest RAM in the VM spec', 'gauge', (n) => (v, vm) => one(n, vm, v.memoryBytes)),
  family('polyvisor_vm_memory_rss_bytes', 'Resident memory of the VM\'s QEMU process', 'gauge', (n) => (v, vm) => one(n, vm, v.stats?.rssBytes)),
  family('polyvisor_vm_balloon_bytes', 'Guest memory reported by the balloon (only VMs with a balloon device)', 'gauge', (n) => (v, vm) => one(n, vm, v.stats?.balloonBytes)),
  family('polyvisor_vm_stats_up', '1 if the VM\'s monitor answered this scrape in time, 0 if not (VMs with a process only)', 'gauge', (n) => (v, vm) => one(n, vm, v.stats ? 1 : v.statsError !== null ? 0 : null)),
  family('polyvisor_vm_cpu_seconds_total', 'CPU time of the VM\'s QEMU process (all threads)', 'counter', (n) => (v, vm) => one(n, vm, v.stats?.cpuSeconds)),
  family('polyvisor_vm_vcpu_seconds_total', 'CPU time of one vCPU thread', 'counter', (n) => (v, vm) => (v.stats?.vcpuSeconds ?? []).map((t) => `${n}{vm="${vm}",vcpu="${t.vcpu}"} ${num(t.seconds)}\n`).join('')),
  family('polyvisor_vm_disk_read_bytes_total', 'Bytes the guest read from a disk', 'counter', (n) => perDisk(n, (d) => d.readBytes)),
  family('polyvisor_vm_disk_write_bytes_total', 'Bytes the guest wrote to a disk', 'counter', (n) => perDisk(n, (d) => d.writeBytes)),
  family('polyvisor_vm_disk_read_operations_total', 'Read requests of a disk', 'counter', (n) => perDisk(n, (d) => d.readOps)),
  family('polyvisor_vm_disk_write_operations_total', 'Write requests of a disk', 'counter', (n) => perDisk(n, (d) => d.writeOps)),
  family('polyvisor_vm_disk_flush_operations_total', 'Flush requests of a disk', 'counter', (n) => perDisk(n, (d) => d.flushOps)),
  family('polyvisor_vm_disk_read_seconds_total', 'Time spent in reads of a disk', 'counter', (n) => perDisk(n, (d) => d.readSeconds)),
  family('polyvisor_vm_disk_write_seconds_total', 'Time spent in writes of a disk', 'counter', (n) => perDisk(n, (d) => d.writeSeconds)),
  family('polyvisor_vm_network_receive_bytes_total', 'Bytes a NIC received, as the guest counts them (guest agent)', 'counter', (n) => perNic(n, (x) => x.rxBytes)),
  family('polyvisor_vm_network_transmit_bytes_total', 'Bytes a NIC sent, as the guest counts them (guest agent)', 'counter', (n) => perNic(n, (x) => x.txBytes)),
  family('polyvisor_vm_network_receive_packets_total', 'Packets a NIC received, as the guest counts them (guest agent)', 'counter', (n) => perNic(n, (x) => x.rxPackets)),
  family('polyvisor_vm_network_transmit_packets_total', 'Packets a NIC sent, as the guest counts them (guest agent)', 'counter', (n) => perNic(n, (x) => x.txPackets)),
  family('polyvisor_vm_numa_memory_bytes', 'Resident guest RAM of the VM on each host NUMA node (/proc/PID/numa_maps)', 'gauge', (n) => (v, vm) => (v.stats?.numa?.nodes ?? []).map((x) => `${n}{vm="${vm}",node="${x.node}"} ${num(x.bytes)}\n`).join('')),
  family('polyvisor_vm_numa_remote_ratio', 'Share of the VM\'s resident guest RAM on host nodes other than the ones its spec binds it to (unbound: other than the node holding the most)', 'gauge', (n) => (v, vm) => one(n, vm, v.stats?.numa?.remoteRatio)),
];

interface Cached { key: string; lines: string[] }

export class VmSeries {
  private readonly cache = new Map<string, Cached>();
  private order: Cached[] = [];
  /** Cache hits of the last update (VMs whose lines were reused). */
  reused = 0;

  /** Takes this scrape's samples; a VM not among them loses its series. */
  update(vms: readonly VmMetricSample[]): void {
    const seen = new Set<string>();
    this.reused = 0;
    this.order = vms.map((v) => {
      seen.add(v.name);
      // Only a VM without a process can be reused: its sample is these four facts.
      const key = v.stats === null ? `${v.state}\u0000${v.vcpus}\u0000${v.memoryBytes}\u0000${v.statsError === null ? '' : 'e'}` : '';
      const hit = this.cache.get(v.name);
      if (key !== '' && hit?.key === key) {
        this.reused++;
        return hit;
      }
      const vm = escapeLabel(v.name);
      const c = { key, lines: FAMILIES.map((f) => f.lines(v, vm)) };
      this.cache.set(v.name, c);
      return c;
    });
    for (const k of this.cache.keys()) if (!seen.has(k)) this.cache.delete(k);
  }

  /** The families in text exposition format, each after a blank line (to follow prom-client's text, which ends in a newline). */
  text(): string {
    let out = '';
    for (const [i, f] of FAMILIES.entries()) {
      out += `\n# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`;
      for (const c of this.order) out += c.lines[i]!;
    }
    return out;
  }
}
