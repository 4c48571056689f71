import { describe, expect, it } from 'vitest';
import { MetricsExporter, parseDiskstats, parseMeminfo, parseNetDev, parseProcStat, readHost, stopCause, type VmMetricSample } from './index.js';

const vm = (name: string, extra: Partial<VmMetricSample> = {}): VmMetricSample => ({
  name, state: 'running', vcpus: 2, memoryBytes: 128 * 1024 ** 2, statsError: null,
  stats: {
    cpuSeconds: 1.5, vcpuSeconds: [{ vcpu: 0, seconds: 1 }], rssBytes: 1000, balloonBytes: null,
    disks: [{ disk: 'root', readBytes: 10, writeBytes: 20, readOps: 1, writeOps: 2, flushOps: 3, readSeconds: 0.1, writeSeconds: 0.2 }],
    nics: [], monitorCalls: [{ command: 'query-blockstats', seconds: 0.001 }],
  },
  ...extra,
});

describe('/proc parsers', () => {
  it('read CPU modes, memory, network and whole disks', () => {
    const s = parseProcStat('cpu  100 0 50 1000 5 0 1 0 0 0\ncpu0 50 0 25 500 0 0 0 0 0 0\ncpu1 50 0 25 500 5 0 1 0 0 0\n');
    expect(s.cpus).toBe(2);
    expect(s.cpuSeconds).toMatchObject({ user: 1, system: 0.5, idle: 10, iowait: 0.05 });
    expect(parseMeminfo('MemTotal:       1000 kB\nMemAvailable:    500 kB\n')).toEqual({ MemTotal: 1024000, MemAvailable: 512000 });
    const net = parseNetDev('h1\nh2\n    lo: 1 2 0 0 0 0 0 0 3 4 0 0 0 0 0 0\n  eth0: 100 5 0 0 0 0 0 0 200 6 0 0 0 0 0 0\n');
    expect(net).toEqual([{ iface: 'eth0', rxBytes: 100, rxPackets: 5, txBytes: 200, txPackets: 6 }]);
    const disks = parseDiskstats(' 254 0 vda 10 0 8 0 20 0 16 0 0 0 0\n 254 1 vda1 1 0 2 0 3 0 4 0 0 0 0\n 7 0 loop0 1 0 1 0 1 0 1 0 0 0 0\n', (d) => d === 'vda');
    expect(disks).toEqual([{ device: 'vda', reads: 10, readBytes: 4096, writes: 20, writeBytes: 8192 }]);
  });

  it('reads this host', async () => {
    const h = await readHost();
    expect(h.cpus).toBeGreaterThan(0);
    expect(h.memTotalBytes).toBeGreaterThan(h.memAvailableBytes);
  });
});

describe('MetricsExporter', () => {
  it('renders VM, pool, operation and API series with bounded labels', async () => {
    const ex = new MetricsExporter({ version: '9.9.9', processMetrics: false });
    ex.setSources({ vms: async () => [vm('web'), vm('db', { state: 'stopped', stats: null })], pools: async () => [{ name: 'default', capacityBytes: 100, freeBytes: 40, usedBytes: 60 }] });
    ex.operationFinished({ kind: 'vm.backup', vm: 'web', status: 'succeeded', createdAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:02Z' });
    ex.stateChanged({ vm: 'web', from: 'running', to: 'stopped', reason: 'QEMU exited (crashed)' });
    ex.apiRequest('GET', '/v1/vms/:name', 200, 0.002);
    const text = await ex.render();
    expect(text).toContain('polyvisor_vm_disk_write_bytes_total{vm="web",disk="root"} 20');
    expect(text).toContain('# TYPE polyvisor_vm_disk_write_bytes_total counter');
    expect(text).toContain('polyvisor_vm_state{vm="db",state="stopped"} 1');
    expect(text).toContain('polyvisor_vm_state{vm="db",state="running"} 0');
    expect(text).toContain('polyvisor_pool_free_bytes{pool="default"} 40');
    expect(text).toContain('polyvisor_operations_total{kind="vm.backup",outcome="succeeded"} 1');
    expect(text).toContain('polyvisor_operation_duration_seconds_sum{kind="vm.backup",outcome="succeeded"} 2');
    expect(text).toContain('polyvisor_vm_last_backup_success_timestamp_seconds{vm="web"} 1767225602');
    expect(text).toContain('polyvisor_vm_stops_total{vm="web",cause="crashed"} 1');
    expect(text).toContain('polyvisor_api_requests_total{method="GET",route="/v1/vms/:name",status="200"} 1');
    expect(text).toContain('polyvisor_qmp_command_duration_seconds_count{command="query-blockstats"} 1');
    expect(text).toMatch(/polyvisor_host_cpu_seconds_total\{mode="idle"\} \d/);
    ex.vmRemoved('web');
    expect(await ex.render()).not.toContain('polyvisor_vm_stops_total{vm="web"');
  });

  it('a hung source costs the scrape its deadline, not forever', async () => {
    const ex = new MetricsExporter({ version: '1', processMetrics: false, scrapeTimeoutMs: 200 });
    ex.setSources({ vms: () => new Promise(() => undefined) });
    const t0 = Date.now();
    const text = await ex.render();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(text).toContain('polyvisor_scrape_errors_total{source="vms"} 1');
  });

  it('reads the backup catalogue at most once a minute, and again after a backup request', async () => {
    const ex = new MetricsExporter({ version: '1', processMetrics: false });
    let reads = 0;
    ex.setSources({ vms: async () => [], lastBackups: async () => [{ vm: 'web', at: 1000 + reads++ }] });
    expect(await ex.render()).toContain('polyvisor_vm_last_backup_success_timestamp_seconds{vm="web"} 1000');
    await ex.render();
    expect(reads).toBe(1);
    ex.apiRequest('POST', '/v1/vms/:name/backups', 201, 1);
    expect(await ex.render()).toContain('polyvisor_vm_last_backup_success_timestamp_seconds{vm="web"} 1001');
  });

  it('counts migrations by outcome from state changes', async () => {
    const ex = new MetricsExporter({ version: '1', processMetrics: false });
    ex.stateChanged({ vm: 'a', from: 'running', to: 'migrating', reason: 'live migration' });
    ex.stateChanged({ vm: 'a', from: 'migrating', to: 'running', reason: 'migrated' });
    ex.stateChanged({ vm: 'a', from: 'running', to: 'migrating', reason: 'live migration' });
    ex.stateChanged({ vm: 'a', from: 'migrating', to: 'running', reason: 'live migration failed or was cancelled: x' });
    const text = await ex.render();
    expect(text).toContain('polyvisor_migrations_total{outcome="succeeded"} 1');
    expect(text).toContain('polyvisor_migrations_total{outcome="failed"} 1');
    expect(text).toContain('polyvisor_migration_duration_seconds_count{outcome="failed"} 1');
  });

  it('counts mirrored disks by the mode they ended in, switches to write-blocking and the time spent converging', async () => {
    const ex = new MetricsExporter({ version: '1', processMetrics: false });
    ex.mirrorsFinished({ mode: 'write-blocking', disks: 2, switchedToActive: 1, syncMs: 4_000, behindBytes: 0, convergeMs: 0 });
    ex.mirrorsFinished({ mode: 'background', disks: 1, switchedToActive: 0, syncMs: 1_000, behindBytes: 4096, convergeMs: 120 });
    const text = await ex.render();
    expect(text).toContain('polyvisor_migration_disk_mirrors_total{mode="write-blocking"} 2');
    expect(text).toContain('polyvisor_migration_disk_mirrors_total{mode="background"} 1');
    expect(text).toContain('polyvisor_migration_disk_mirror_switches_total 1');
    expect(text).toContain('polyvisor_migration_disk_mirror_converge_seconds_sum{mode="background"} 0.12');
    expect(text).toContain('polyvisor_migration_disk_mirror_sync_seconds_count{mode="write-blocking"} 1');
  });

  it('tells user stops from guest power-offs and crashes', () => {
    expect(stopCause('killed by user')).toBe('user');
    expect(stopCause('guest powered off')).toBe('guest');
    expect(stopCause('QEMU exited (QEMU ended without a shutdown event (crashed or killed))')).toBe('crashed');
  });
});
