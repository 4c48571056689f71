import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MetricsExporter, type VmMetricSample } from './index.js';
import { VmSeries, escapeLabel } from './vm-series.js';

const idle = (name: string, state = 'stopped'): VmMetricSample => ({ name, state, vcpus: 1, memoryBytes: 1024, stats: null, statsError: null });
const running = (name: string, writeBytes: number): VmMetricSample => ({
  name, state: 'running', vcpus: 2, memoryBytes: 2048, statsError: null,
  stats: {
    cpuSeconds: 1.5, vcpuSeconds: [{ vcpu: 0, seconds: 1 }], rssBytes: 1000, balloonBytes: null,
    disks: [{ disk: 'root', readBytes: 10, writeBytes, readOps: 1, writeOps: 2, flushOps: 3, readSeconds: 0.1, writeSeconds: 0.2 }],
    nics: [{ nic: 'net0', rxBytes: 5, txBytes: 6, rxPackets: 1, txPackets: 2 }], monitorCalls: [],
    numa: { nodes: [{ node: 0, bytes: 4096 }, { node: 1, bytes: 12288 }], remoteRatio: 0.75 },
  },
});

describe('VmSeries: per-VM lines cached between scrapes', () => {
  it('reuses the lines of a VM whose sample did not change, and follows every change', () => {
    const s = new VmSeries();
    s.update([idle('a'), idle('b'), running('c', 20)]);
    expect(s.reused).toBe(0);
    s.update([idle('a'), idle('b'), running('c', 30)]);
    expect(s.reused).toBe(2); // a running VM's counters move: never reused
    const t = s.text();
    expect(t).toContain('polyvisor_vm_state{vm="a",state="stopped"} 1');
    expect(t).toContain('polyvisor_vm_disk_write_bytes_total{vm="c",disk="root"} 30');
    expect(t).toContain('polyvisor_vm_network_transmit_packets_total{vm="c",nic="net0"} 2');
    expect(t).toContain('polyvisor_vm_numa_memory_bytes{vm="c",node="1"} 12288');
    expect(t).toContain('polyvisor_vm_numa_remote_ratio{vm="c"} 0.75');
    expect(t).not.toContain('polyvisor_vm_numa_remote_ratio{vm="a"}'); // no process, no series
    s.update([idle('a', 'running'), idle('b')]);
    expect(s.reused).toBe(1);
    const u = s.text();
    expect(u).toContain('polyvisor_vm_state{vm="a",state="running"} 1');
    expect(u).toContain('polyvisor_vm_state{vm="a",state="stopped"} 0');
    expect(u).not.toContain('vm="c"'); // a VM gone from the sample loses its series
    s.update([{ ...idle('b'), statsError: 'timeout' }]);
    expect(s.text()).toContain('polyvisor_vm_stats_up{vm="b"} 0');
  });

  it('escapes label values', () => {
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });

  it('the exporter\'s whole text passes promtool check metrics', async () => {
    const ex = new MetricsExporter({ version: '1.0.0', processMetrics: false });
    ex.setSources({ vms: async () => [idle('a'), running('c', 1)], pools: async () => [] });
    await ex.render();
    const text = await ex.render();
    expect(text.match(/^# TYPE polyvisor_vm_state gauge$/gm)).toHaveLength(1);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    // promtool's lint only warns about naming; an unparsable exposition exits 1 with "error while linting"
    expect(r.stderr + r.stdout).not.toMatch(/error while linting|text format parsing error/);
  });
});
