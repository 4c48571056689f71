/**
 * The daemon's Prometheus registry. Daemon series (operations, API requests,
 * monitor latency, VM stops, backups) are fed by events as they happen; host,
 * VM and pool series are sampled lazily on each scrape, with a deadline per VM
 * (in the source) and one for the whole scrape.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { readHost } from './host.js';
import { ScrapeMetrics } from './scrape-metrics.js';
import { ForeignMetrics } from './foreign.js';
import { HostTopologySeries, TOPOLOGY_READ_EVERY_MS } from './host-topology-series.js';
import type { HostTopologyMetricSample, MetricSources, MirrorMetricSample, OperationMetricSample, PoolMetricSample, StateChangeSample, VmMetricSample } from './types.js';

export interface ExporterOptions {
  version: string;
  /** Whole-scrape deadline for the VM and pool sources (default 5 s). */
  scrapeTimeoutMs?: number;
  /** Add Node's process metrics as polyvisor_daemon_* (default true). */
  processMetrics?: boolean;
}

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];
const BACKUP_READ_EVERY_MS = 60_000;
const FAST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Why a VM left running/paused for stopped or error: the user, the guest, or neither. */
export function stopCause(reason: string): 'user' | 'guest' | 'crashed' {
  if (/by user|force stop|stop requested/.test(reason)) return 'user';
  if (reason.startsWith('guest powered off')) return 'guest';
  return 'crashed';
}

export class MetricsExporter {
  readonly registry = new Registry();
  readonly contentType: string;
  private readonly scrape: ScrapeMetrics;
  private sources: MetricSources | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private backupsReadAt = 0;
  /** The VM sampling whose monitor calls and errors were last counted. */
  private observed: unknown = null;
  private readonly ops = {
    total: new Counter({ name: 'polyvisor_operations_total', help: 'Finished operations by kind (vm.start, migration…) and outcome', labelNames: ['kind', 'outcome'], registers: [this.registry] }),
    duration: new Histogram({ name: 'polyvisor_operation_duration_seconds', help: 'Duration of finished operations', labelNames: ['kind', 'outcome'], buckets: DURATION_BUCKETS, registers: [this.registry] }),
    lastSuccess: new Gauge({ name: 'polyvisor_operation_last_success_timestamp_seconds', help: 'When an operation of this kind last succeeded', labelNames: ['kind'], registers: [this.registry] }),
    lastBackup: new Gauge({ name: 'polyvisor_vm_last_backup_success_timestamp_seconds', help: 'When the newest backup of a VM finished (backup catalogue, or operations whose kind contains "backup")', labelNames: ['vm'], registers: [this.registry] }),
  };
  private readonly api = {
    total: new Counter({ name: 'polyvisor_api_requests_total', help: 'API requests by method, route template and status code', labelNames: ['method', 'route', 'status'], registers: [this.registry] }),
    duration: new Histogram({ name: 'polyvisor_api_request_duration_seconds', help: 'API request durations by method and route template', labelNames: ['method', 'route'], buckets: FAST_BUCKETS, registers: [this.registry] }),
  };
  private readonly qmp = new Histogram({ name: 'polyvisor_qmp_command_duration_seconds', help: 'Round trip of QEMU monitor commands the exporter sent', labelNames: ['command'], buckets: FAST_BUCKETS, registers: [this.registry] });
  private readonly stops = new Counter({ name: 'polyvisor_vm_stops_total', help: 'VMs that left running or paused for stopped or error, by cause (user, guest, crashed)', labelNames: ['vm', 'cause'], registers: [this.registry] });
  private readonly migrations = {
    total: new Counter({ name: 'polyvisor_migrations_total', help: 'Finished live migrations by outcome (succeeded, failed)', labelNames: ['outcome'], registers: [this.registry] }),
    duration: new Histogram({ name: 'polyvisor_migration_duration_seconds', help: 'Time VMs spent in state migrating, by outcome', labelNames: ['outcome'], buckets: DURATION_BUCKETS, registers: [this.registry] }),
    started: new Map<string, number>(),
    mirrors: new Counter({ name: 'polyvisor_migration_disk_mirrors_total', help: 'Disks mirrored by finished host-to-host moves, by the mirror mode they ended in (background, write-blocking)', labelNames: ['mode'], registers: [this.registry] }),
    switched: new Counter({ name: 'polyvisor_migration_disk_mirror_switches_total', help: 'Background disk mirrors restarted in write-blocking mode because they stopped gaining on the guest', registers: [this.registry] }),
    converge: new Histogram({ name: 'polyvisor_migration_disk_mirror_converge_seconds', help: 'Time the switch-over waited, vCPUs stopped, for disk mirrors that were behind to be in sync again', labelNames: ['mode'], buckets: FAST_BUCKETS, registers: [this.registry] }),
    sync: new Histogram({ name: 'polyvisor_migration_disk_mirror_sync_seconds', help: 'Time from the start of the disk mirrors until every disk was in sync, before the RAM stream', labelNames: ['mode'], buckets: DURATION_BUCKETS, registers: [this.registry] }),
  };
  private readonly scrapeDuration = new Gauge({ name: 'polyvisor_scrape_duration_seconds', help: 'Time the last scrape spent sampling host, VMs and pools', registers: [this.registry] });
  private readonly scrapeErrors = new Counter({ name: 'polyvisor_scrape_errors_total', help: 'Scrape sources that failed or timed out', labelNames: ['source'], registers: [this.registry] });

  private readonly foreignSeries: ForeignMetrics;
  private readonly topologySeries: HostTopologySeries;
  private topologyReadAt = 0;

  constructor(private readonly o: ExporterOptions) {
    this.contentType = this.registry.contentType;
    new Gauge({ name: 'polyvisor_build_info', help: 'Version of the daemon', labelNames: ['version'], registers: [this.registry] }).set({ version: o.version }, 1);
    if (o.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'polyvisor_daemon_' });
    this.scrape = new ScrapeMetrics(this.registry);
    this.foreignSeries = new ForeignMetrics(this.registry);
    this.topologySeries = new HostTopologySeries(this.registry);
  }

  setSources(s: MetricSources): void {
    this.sources = s;
  }

  operationFinished(op: OperationMetricSample): void {
    if (op.finishedAt === null) return;
    const labels = { kind: op.kind, outcome: op.status };
    const seconds = Math.max(0, (Date.parse(op.finishedAt) - Date.parse(op.createdAt)) / 1000);
    this.ops.total.inc(labels);
    this.ops.duration.observe(labels, seconds);
    if (op.status !== 'succeeded') return;
    const at = Date.parse(op.finishedAt) / 1000;
    this.ops.lastSuccess.set({ kind: op.kind }, at);
    if (op.vm && op.kind.includes('backup')) this.ops.lastBackup.set({ vm: op.vm }, at);
  }

  stateChanged(c: StateChangeSample): void {
    if (c.to === 'migrating') this.migrations.started.set(c.vm, performance.now());
    if (c.from === 'migrating') {
      const outcome = c.to === 'error' || /fail|cancel/.test(c.reason) ? 'failed' : 'succeeded';
      const t0 = this.migrations.started.get(c.vm);
      this.migrations.started.delete(c.vm);
      this.migrations.total.inc({ outcome });
      if (t0 !== undefined) this.migrations.duration.observe({ outcome }, (performance.now() - t0) / 1000);
    }
    if ((c.from === 'running' || c.from === 'paused') && (c.to === 'stopped' || c.to === 'error')) {
      this.stops.inc({ vm: c.vm, cause: stopCause(c.reason) });
    }
  }

  /** A host-to-host move that mirrored disks finished: mode, switches and convergence time. */
  mirrorsFinished(m: MirrorMetricSample): void {
    this.migrations.mirrors.inc({ mode: m.mode }, m.disks);
    if (m.switchedToActive) this.migrations.switched.inc(m.switchedToActive);
    this.migrations.converge.observe({ mode: m.mode }, m.convergeMs / 1000);
    this.migrations.sync.observe({ mode: m.mode }, m.syncMs / 1000);
  }

  /** Forgets the series of a removed VM so they do not linger. */
  vmRemoved(vm: string): void {
    for (const cause of ['user', 'guest', 'crashed']) this.stops.remove({ vm, cause });
    this.ops.lastBackup.remove({ vm });
    this.migrations.started.delete(vm);
  }

  apiRequest(method: string, route: string, status: number, seconds: number): void {
    this.api.total.inc({ method, route, status: String(status) });
    this.api.duration.observe({ method, route }, seconds);
    if (method !== 'GET' && route.includes('/backups')) this.backupsReadAt = 0; // the catalogue changed: read it on the next scrape
  }

  /** The text exposition; concurrent scrapes are serialized (they share the per-scrape series). */
  render(): Promise<string> {
    const next = this.chain.then(() => this.renderNow());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async renderNow(): Promise<string> {
    const t0 = performance.now();
    const signal = AbortSignal.timeout(this.o.scrapeTimeoutMs ?? 5_000);
    const [host, vms, pools] = await Promise.all([
      readHost().catch(() => this.failed('host', null)),
      this.sources ? bounded(this.sources.vms(signal), signal).catch(() => this.failed<VmMetricSample[]>('vms', [])) : [],
      this.sources?.pools ? bounded(this.sources.pools(signal), signal).catch(() => this.failed<PoolMetricSample[]>('pools', [])) : [],
    ]);
    if (vms !== this.observed) { // a sampling reused from the cache was counted when it was new
      this.observed = vms;
      for (const v of vms) {
        if (v.statsError !== null) this.scrapeErrors.inc({ source: 'vm' });
        for (const m of v.stats?.monitorCalls ?? []) this.qmp.observe({ command: m.command }, m.seconds);
      }
    }
    this.scrape.update(host, vms, pools);
    if (this.sources?.foreign) {
      const f = await bounded(this.sources.foreign(signal), signal).catch(() => this.failed('endpoints', { vms: [], endpoints: [] }));
      this.foreignSeries.update(f.vms, f.endpoints);
    }
    await this.readBackups(signal);
    await this.readTopology(signal);
    this.scrapeDuration.set((performance.now() - t0) / 1000);
    return (await this.registry.metrics()) + this.scrape.vms.text();
  }

  /** The backup catalogue is files on disk: read it at most once a minute, not on every scrape. */
  private async readBackups(signal: AbortSignal): Promise<void> {
    if (!this.sources?.lastBackups || Date.now() - this.backupsReadAt < BACKUP_READ_EVERY_MS) return;
    this.backupsReadAt = Date.now();
    const last = await bounded(this.sources.lastBackups(signal), signal).catch(() => this.failed<Array<{ vm: string; at: number }>>('backups', []));
    for (const b of last) this.ops.lastBackup.set({ vm: b.vm }, b.at);
  }

  /** The host's topology is sysfs: read it at most every 15 s. */
  private async readTopology(signal: AbortSignal): Promise<void> {
    if (!this.sources?.hostTopology || Date.now() - this.topologyReadAt < TOPOLOGY_READ_EVERY_MS) return;
    this.topologyReadAt = Date.now();
    const t = await bounded(this.sources.hostTopology(signal), signal).catch(() => this.failed<HostTopologyMetricSample | null>('host-topology', null));
    if (t) this.topologySeries.update(t);
  }

  private failed<T>(source: string, value: T): T {
    this.scrapeErrors.inc({ source });
    return value;
  }
}

function bounded<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('scrape deadline'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
