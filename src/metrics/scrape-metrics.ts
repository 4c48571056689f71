/**
 * Series rebuilt on every scrape from a fresh sample: host, VMs, pools.
 * Counters read from QEMU or /proc are exported as counters (reset, then set).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { HostSample } from './host.js';
import type { PoolMetricSample, VmMetricSample } from './types.js';

type Labels<L extends string> = Partial<Record<L, string>>;

export const VM_STATES = ['created', 'starting', 'running', 'paused', 'suspended', 'stopping', 'stopped', 'migrating', 'error'] as const;

export class ScrapeMetrics {
  private readonly all: Array<Gauge | Counter> = [];
  private readonly g: ReturnType<ScrapeMetrics['gauges']>;
  private readonly c: ReturnType<ScrapeMetrics['counters']>;

  constructor(private readonly reg: Registry) {
    this.g = this.gauges();
    this.c = this.counters();
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    const m = new Gauge<L>({ name, help, labelNames, registers: [this.reg] });
    this.all.push(m as unknown as Gauge);
    return m;
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    const m = new Counter<L>({ name, help, labelNames, registers: [this.reg] });
    this.all.push(m as unknown as Counter);
    return m;
  }

  private gauges() {
    return {
      hostCpus: this.gauge('polyvisor_host_cpus', 'Logical CPUs of the host'),
      hostMemTotal: this.gauge('polyvisor_host_memory_total_bytes', 'Host RAM (MemTotal)'),
      hostMemAvail: this.gauge('polyvisor_host_memory_available_bytes', 'Host RAM available without swapping (MemAvailable)'),
      hostSwapTotal: this.gauge('polyvisor_host_swap_total_bytes', 'Host swap size'),
      hostSwapFree: this.gauge('polyvisor_host_swap_free_bytes', 'Host swap free'),
      hostLoad: this.gauge('polyvisor_host_load_average', 'Host load average', ['period']),
      vmState: this.gauge('polyvisor_vm_state', '1 for the state the VM is in, 0 for the others', ['vm', 'state']),
      vmVcpus: this.gauge('polyvisor_vm_vcpus', 'vCPUs in the VM spec', ['vm']),
      vmMem: this.gauge('polyvisor_vm_memory_bytes', 'Guest RAM in the VM spec', ['vm']),
      vmRss: this.gauge('polyvisor_vm_memory_rss_bytes', 'Resident memory of the VM\'s QEMU process', ['vm']),
      vmBalloon: this.gauge('polyvisor_vm_balloon_bytes', 'Guest memory reported by the balloon (only VMs with a balloon device)', ['vm']),
      vmUp: this.gauge('polyvisor_vm_stats_up', '1 if the VM\'s monitor answered this scrape in time, 0 if not (VMs with a process only)', ['vm']),
      poolCap: this.gauge('polyvisor_pool_capacity_bytes', 'Size of the filesystem holding the pool', ['pool']),
      poolFree: this.gauge('polyvisor_pool_free_bytes', 'Bytes still writable in the pool', ['pool']),
      poolUsed: this.gauge('polyvisor_pool_used_bytes', 'Bytes used on the pool\'s filesystem', ['pool']),
    };
  }

  private counters() {
    return {
      hostCpu: this.counter('polyvisor_host_cpu_seconds_total', 'Host CPU time by mode (/proc/stat)', ['mode']),
      hostDiskRead: this.counter('polyvisor_host_disk_read_bytes_total', 'Bytes read from a host block device', ['device']),
      hostDiskWrite: this.counter('polyvisor_host_disk_write_bytes_total', 'Bytes written to a host block device', ['device']),
      hostDiskReads: this.counter('polyvisor_host_disk_reads_total', 'Reads completed by a host block device', ['device']),
      hostDiskWrites: this.counter('polyvisor_host_disk_writes_total', 'Writes completed by a host block device', ['device']),
      hostNetRx: this.counter('polyvisor_host_network_receive_bytes_total', 'Bytes received by a host interface', ['interface']),
      hostNetTx: this.counter('polyvisor_host_network_transmit_bytes_total', 'Bytes sent by a host interface', ['interface']),
      hostNetRxP: this.counter('polyvisor_host_network_receive_packets_total', 'Packets received by a host interface', ['interface']),
      hostNetTxP: this.counter('polyvisor_host_network_transmit_packets_total', 'Packets sent by a host interface', ['interface']),
      vmCpu: this.counter('polyvisor_vm_cpu_seconds_total', 'CPU time of the VM\'s QEMU process (all threads)', ['vm']),
      vmVcpu: this.counter('polyvisor_vm_vcpu_seconds_total', 'CPU time of one vCPU thread', ['vm', 'vcpu']),
      diskRB: this.counter('polyvisor_vm_disk_read_bytes_total', 'Bytes the guest read from a disk', ['vm', 'disk']),
      diskWB: this.counter('polyvisor_vm_disk_write_bytes_total', 'Bytes the guest wrote to a disk', ['vm', 'disk']),
      diskRO: this.counter('polyvisor_vm_disk_read_operations_total', 'Read requests of a disk', ['vm', 'disk']),
      diskWO: this.counter('polyvisor_vm_disk_write_operations_total', 'Write requests of a disk', ['vm', 'disk']),
      diskFO: this.counter('polyvisor_vm_disk_flush_operations_total', 'Flush requests of a disk', ['vm', 'disk']),
      diskRS: this.counter('polyvisor_vm_disk_read_seconds_total', 'Time spent in reads of a disk', ['vm', 'disk']),
      diskWS: this.counter('polyvisor_vm_disk_write_seconds_total', 'Time spent in writes of a disk', ['vm', 'disk']),
      nicRB: this.counter('polyvisor_vm_network_receive_bytes_total', 'Bytes a NIC received, as the guest counts them (guest agent)', ['vm', 'nic']),
      nicTB: this.counter('polyvisor_vm_network_transmit_bytes_total', 'Bytes a NIC sent, as the guest counts them (guest agent)', ['vm', 'nic']),
      nicRP: this.counter('polyvisor_vm_network_receive_packets_total', 'Packets a NIC received, as the guest counts them (guest agent)', ['vm', 'nic']),
      nicTP: this.counter('polyvisor_vm_network_transmit_packets_total', 'Packets a NIC sent, as the guest counts them (guest agent)', ['vm', 'nic']),
    };
  }

  /** Replaces every per-scrape series with `host`, `vms` and `pools`. */
  update(host: HostSample | null, vms: VmMetricSample[], pools: PoolMetricSample[]): void {
    for (const m of this.all) m.reset();
    if (host) this.setHost(host);
    for (const v of vms) this.setVm(v);
    for (const p of pools) {
      this.g.poolCap.set({ pool: p.name }, p.capacityBytes);
      this.g.poolFree.set({ pool: p.name }, p.freeBytes);
      this.g.poolUsed.set({ pool: p.name }, p.usedBytes);
    }
  }

  private setHost(h: HostSample): void {
    const { g, c } = this;
    g.hostCpus.set(h.cpus);
    g.hostMemTotal.set(h.memTotalBytes);
    g.hostMemAvail.set(h.memAvailableBytes);
    g.hostSwapTotal.set(h.swapTotalBytes);
    g.hostSwapFree.set(h.swapFreeBytes);
    (['1m', '5m', '15m'] as const).forEach((period, i) => g.hostLoad.set({ period }, h.load[i]!));
    for (const [mode, s] of Object.entries(h.cpuSeconds)) c.hostCpu.inc({ mode }, s);
    for (const d of h.disks) {
      const l = { device: d.device };
      c.hostDiskRead.inc(l, d.readBytes);
      c.hostDiskWrite.inc(l, d.writeBytes);
      c.hostDiskReads.inc(l, d.reads);
      c.hostDiskWrites.inc(l, d.writes);
    }
    for (const n of h.nets) {
      const l = { interface: n.iface };
      c.hostNetRx.inc(l, n.rxBytes);
      c.hostNetTx.inc(l, n.txBytes);
      c.hostNetRxP.inc(l, n.rxPackets);
      c.hostNetTxP.inc(l, n.txPackets);
    }
  }

  private setVm(v: VmMetricSample): void {
    const { g, c } = this;
    const vm: Labels<'vm'> = { vm: v.name };
    for (const state of VM_STATES) g.vmState.set({ vm: v.name, state }, v.state === state ? 1 : 0);
    g.vmVcpus.set(vm, v.vcpus);
    g.vmMem.set(vm, v.memoryBytes);
    if (v.statsError !== null) g.vmUp.set(vm, 0);
    const s = v.stats;
    if (!s) return;
    g.vmUp.set(vm, 1);
    if (s.cpuSeconds !== null) c.vmCpu.inc(vm, s.cpuSeconds);
    if (s.rssBytes !== null) g.vmRss.set(vm, s.rssBytes);
    if (s.balloonBytes !== null) g.vmBalloon.set(vm, s.balloonBytes);
    for (const t of s.vcpuSeconds) c.vmVcpu.inc({ vm: v.name, vcpu: String(t.vcpu) }, t.seconds);
    for (const d of s.disks) {
      const l = { vm: v.name, disk: d.disk };
      c.diskRB.inc(l, d.readBytes);
      c.diskWB.inc(l, d.writeBytes);
      c.diskRO.inc(l, d.readOps);
      c.diskWO.inc(l, d.writeOps);
      c.diskFO.inc(l, d.flushOps);
      c.diskRS.inc(l, d.readSeconds);
      c.diskWS.inc(l, d.writeSeconds);
    }
    for (const n of s.nics) {
      const l = { vm: v.name, nic: n.nic };
      c.nicRB.inc(l, n.rxBytes);
      c.nicTB.inc(l, n.txBytes);
      c.nicRP.inc(l, n.rxPackets);
      c.nicTP.inc(l, n.txPackets);
    }
  }
}
