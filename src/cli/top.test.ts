import { describe, expect, it } from 'vitest';
import { parsePromText, sumBy } from './prom-text.js';
import { renderTop } from './top.js';

const text = (cpu: number, wr: number, idle: number) => `# HELP x
polyvisor_host_cpus 2
polyvisor_host_cpu_seconds_total{mode="idle"} ${idle}
polyvisor_host_cpu_seconds_total{mode="user"} 100
polyvisor_host_memory_total_bytes 1073741824
polyvisor_host_memory_available_bytes 536870912
polyvisor_vm_state{vm="web",state="running"} 1
polyvisor_vm_state{vm="web",state="stopped"} 0
polyvisor_vm_state{vm="db",state="stopped"} 1
polyvisor_vm_vcpus{vm="web"} 2
polyvisor_vm_memory_bytes{vm="web"} 134217728
polyvisor_vm_memory_rss_bytes{vm="web"} 67108864
polyvisor_vm_vcpu_seconds_total{vm="web",vcpu="0"} ${cpu}
polyvisor_vm_vcpu_seconds_total{vm="web",vcpu="1"} ${cpu}
polyvisor_vm_disk_write_bytes_total{vm="web",disk="root"} ${wr}
polyvisor_vm_network_transmit_bytes_total{vm="web",nic="net0"} ${wr / 2}
polyvisor_vm_network_transmit_bytes_total{vm="web",nic="net1"} ${wr / 2}
`;

describe('polyvisor top', () => {
  it('parses the text format, escapes included', () => {
    const s = parsePromText('a{x="1",y="q\\"z"} 3\n# c\nb 4.5\n');
    expect(s).toEqual([{ name: 'a', labels: { x: '1', y: 'q"z' }, value: 3 }, { name: 'b', labels: {}, value: 4.5 }]);
    expect(sumBy(parsePromText(text(1, 0, 0)), 'polyvisor_vm_vcpu_seconds_total', 'vm').get('web')).toBe(2);
  });

  it('renders rates between two frames, busiest first', () => {
    const out = renderTop({ at: 0, samples: parsePromText(text(10, 0, 100)) }, { at: 2000, samples: parsePromText(text(11, 4 * 1024 * 1024, 102)) });
    expect(out).toMatch(/VMs: 2 \(1 running\)/);
    expect(out).toMatch(/host cpu 0\.0% of 2 CPUs/);
    expect(out).toMatch(/web\s+running\s+2\s+50\.0%\s+64 MiB\s+128 MiB\s+-\s+2 MiB\/s\s+-\s+2 MiB\/s/);
    expect(out.indexOf('web')).toBeLessThan(out.indexOf('db'));
  });
});
