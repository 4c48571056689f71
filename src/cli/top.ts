/**
 * polyvisor top: a live view of the VMs and their resource use, computed
 * from two scrapes of /metrics. Refreshes every --interval seconds; q or
 * Ctrl-C quits. --once prints a single frame (two scrapes --interval apart).
 */
import type { Command } from 'commander';
import { OpsClient } from '../client/index.js';
import { sleep } from '../shared/index.js';
import { connectionFrom, type GlobalOptions } from './context.js';
import { formatBytes, table } from './format.js';
import { parsePromText, single, sumBy, type Sample } from './prom-text.js';

interface Frame { at: number; samples: Sample[] }

const rate = (now: Map<string, number>, before: Map<string, number>, key: string, seconds: number): number | undefined => {
  const a = now.get(key);
  const b = before.get(key);
  return a === undefined || b === undefined || seconds <= 0 ? undefined : Math.max(0, (a - b) / seconds);
};
const pct = (v: number | undefined): string => (v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);
const perSec = (v: number | undefined): string => (v === undefined ? '-' : `${formatBytes(Math.round(v))}/s`);

export function renderTop(prev: Frame, cur: Frame, width = 120): string {
  const s = cur.samples;
  const dt = (cur.at - prev.at) / 1000;
  const hostCpu = (f: Frame, idle: boolean) => [...sumBy(f.samples, 'polyvisor_host_cpu_seconds_total', 'mode').entries()].filter(([m]) => (m === 'idle') === idle).reduce((a, [, v]) => a + v, 0);
  const busy = hostCpu(cur, false) - hostCpu(prev, false);
  const idle = hostCpu(cur, true) - hostCpu(prev, true);
  const memTotal = single(s, 'polyvisor_host_memory_total_bytes') ?? 0;
  const memAvail = single(s, 'polyvisor_host_memory_available_bytes') ?? 0;
  const states = s.filter((x) => x.name === 'polyvisor_vm_state' && x.value === 1);
  const running = states.filter((x) => x.labels['state'] === 'running').length;
  const head = [
    `polyvisor top - ${new Date(cur.at).toISOString().slice(11, 19)}  VMs: ${states.length} (${running} running)`,
    `host cpu ${pct(busy + idle > 0 ? busy / (busy + idle) : undefined)} of ${single(s, 'polyvisor_host_cpus') ?? '?'} CPUs   mem ${formatBytes(memTotal - memAvail)} used of ${formatBytes(memTotal)}   load ${(single(s, 'polyvisor_host_load_average', { period: '1m' }) ?? 0).toFixed(2)}`,
    '',
  ];
  const cpuNow = sumBy(s, 'polyvisor_vm_vcpu_seconds_total', 'vm');
  const cpuPrev = sumBy(prev.samples, 'polyvisor_vm_vcpu_seconds_total', 'vm');
  /** Per-VM rate of a counter summed over its disks or NICs. */
  const vmRate = (metric: string): ((vm: string) => string) => {
    const now = sumBy(s, metric, 'vm');
    const before = sumBy(prev.samples, metric, 'vm');
    return (vm) => perSec(rate(now, before, vm, dt));
  };
  const io = ['disk_read', 'disk_write', 'network_receive', 'network_transmit'].map((m) => vmRate(`polyvisor_vm_${m}_bytes_total`));
  const rows = states
    .map((st) => {
      const vm = st.labels['vm']!;
      const vcpus = single(s, 'polyvisor_vm_vcpus', { vm }) ?? 1;
      const cpu = rate(cpuNow, cpuPrev, vm, dt);
      const rss = single(s, 'polyvisor_vm_memory_rss_bytes', { vm });
      const mem = single(s, 'polyvisor_vm_memory_bytes', { vm });
      return { vm, cpu: cpu === undefined ? -1 : cpu, cells: [
        vm, st.labels['state']!, String(vcpus), pct(cpu === undefined ? undefined : cpu / vcpus),
        rss === undefined ? '-' : formatBytes(rss), mem === undefined ? '-' : formatBytes(mem),
        ...io.map((f) => f(vm)),
      ] };
    })
    .sort((a, b) => b.cpu - a.cpu || a.vm.localeCompare(b.vm));
  const body = table(['VM', 'STATE', 'VCPUS', 'CPU', 'RSS', 'MEMORY', 'DISK READ', 'DISK WRITE', 'NET RX', 'NET TX'], rows.map((r) => r.cells));
  return [...head, ...body.split('\n').map((l) => l.slice(0, width))].join('\n').trimEnd() + '\n';
}

export function registerTopCommand(program: Command, out: (s: string) => void): void {
  program
    .command('top')
    .description('live view of VMs and their CPU, memory, disk and network use (q quits)')
    .option('-n, --interval <seconds>', 'refresh interval (default 2)', (v) => Number(v))
    .option('--once', 'print one frame and exit (no screen control)')
    .action(async (o: { interval?: number; once?: boolean }) => {
      const client = new OpsClient(connectionFrom(program.opts<GlobalOptions>()));
      const interval = Math.max(0.2, o.interval ?? 2) * 1000;
      const scrape = async (): Promise<Frame> => ({ samples: parsePromText(await client.metricsText()), at: Date.now() });
      let prev = await scrape();
      if (o.once) {
        await sleep(interval);
        return out(renderTop(prev, await scrape()));
      }
      await live(async () => {
        const cur = await scrape();
        const frame = renderTop(prev, cur, process.stdout.columns || 120);
        prev = cur;
        return frame;
      }, interval, out);
    });
}

/** Redraws until q, Ctrl-C or a closed stdin. */
async function live(frame: () => Promise<string>, intervalMs: number, out: (s: string) => void): Promise<void> {
  const stdin = process.stdin;
  const stop = new AbortController();
  const onKey = (b: Buffer): void => {
    const k = b.toString();
    if (k === 'q' || k === 'Q' || k === '\u0003') stop.abort();
  };
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.on('data', onKey);
  stdin.once('end', () => stop.abort());
  stdin.resume();
  process.once('SIGINT', () => stop.abort());
  out('\x1b[?25l'); // hide the cursor
  try {
    while (!stop.signal.aborted) {
      await sleep(intervalMs, stop.signal).catch(() => undefined);
      if (stop.signal.aborted) break;
      out(`\x1b[H\x1b[2J${await frame()}\nq quits`);
    }
  } finally {
    out('\x1b[?25h\n');
    stdin.off('data', onKey);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
  }
}
