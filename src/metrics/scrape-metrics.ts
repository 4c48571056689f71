/**
 * Series rebuilt on every scrape from a fresh sample: host and pools in the
 * prom-client registry, VMs in VmSeries (appended to the registry's text).
 * Counters read from QEMU or /proc are exported as counters (reset, then set).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { HostSample } from './host.js';
import type { PoolMetricSample, VmMetricSample } from './types.js';
import { VmSeries } from './vm-series.js';

export class ScrapeMetrics {
  private readonly all: Array<Gauge | Counter> = [];
  private readonly g: ReturnType<ScrapeMetrics['gauges']>;
  private readonly c: ReturnType<ScrapeMetrics['counters']>;
  /** VM series are rendered by VmSeries (cached per VM), not kept in the prom-client registry. */
  readonly vms = new VmSeries();

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
    };
  }

  /** Replaces every per-scrape series with `host`, `vms` and `pools`. */
  update(host: HostSample | null, vms: VmMetricSample[], pools: PoolMetricSample[]): void {
    for (const m of this.all) m.reset();
    if (host) this.setHost(host);
    this.vms.update(vms);
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
}
