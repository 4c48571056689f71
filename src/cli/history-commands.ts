/** `polyvisor vm history NAME`: a VM's sampled figures as a compact table (newest rows), or JSON. */
import type { Command } from 'commander';
import { HistoryClient } from '../client/index.js';
import { fail } from '../shared/index.js';
import { HISTORY_RANGES, type HistoryRange, type VmHistoryPoint, type VmHistoryView } from '../spec/index.js';
import { connectionFrom, type GlobalOptions } from './context.js';
import { formatBytes, table } from './format.js';

const dash = (v: number | null, f: (x: number) => string): string => (v === null ? '-' : f(v));
const bytes = (v: number | null): string => dash(v, (x) => formatBytes(Math.round(x)));
const rate = (v: number | null): string => dash(v, (x) => `${formatBytes(Math.round(x))}/s`);
const time = (t: number): string => new Date(t).toISOString().slice(11, 19);

/** The newest `limit` points (0: all) as rows; a gap of more than one step gets a row of its own. */
export function historyTable(h: VmHistoryView, limit: number): string {
  const points = limit > 0 ? h.points.slice(-limit) : h.points;
  if (points.length === 0) return `no points in the last ${h.range} (the VM did not run)\n`;
  const rows: string[][] = [];
  let prev: VmHistoryPoint | undefined;
  for (const p of points) {
    if (prev && p.t - prev.t > h.stepSeconds * 1000) rows.push(['…', `not running ${Math.round((p.t - prev.t) / 1000 / 60)} min`, '', '', '', '', '']);
    rows.push([
      time(p.t),
      dash(p.cpuPercent, (x) => x.toFixed(1)),
      bytes(p.memHostBytes),
      p.memGuestUsedBytes === null ? `- / ${bytes(p.memGuestTotalBytes)}` : `${bytes(p.memGuestUsedBytes)} / ${bytes(p.memGuestTotalBytes)}`,
      `${rate(p.diskReadBps)} / ${rate(p.diskWriteBps)}`,
      `${rate(p.netRxBps)} / ${rate(p.netTxBps)}`,
    ]);
    prev = p;
  }
  const head = `${h.points.length} points, every ${h.stepSeconds} s, times UTC${points.length < h.points.length ? `; the newest ${points.length} shown (--limit 0 for all)` : ''}\n`;
  return head + table(['TIME', 'CPU%', 'MEM HOST', 'MEM GUEST USED / SIZE', 'DISK READ / WRITE', 'NET RX / TX'], rows);
}

export function registerHistoryCommand(vm: Command, g: () => GlobalOptions, out: (s: string) => void): void {
  vm.command('history <name>')
    .description('CPU, memory, disk and network of a VM over the last hour (10 s steps) or day (1 min steps)')
    .option('--range <range>', `${HISTORY_RANGES.join(', ')}`, '1h')
    .option('--limit <n>', 'newest rows to print (0: all)', '30')
    .option('--json', 'print JSON (every point)')
    .action(async (name: string, o: { range: string; limit: string; json?: boolean }) => {
      if (!(HISTORY_RANGES as readonly string[]).includes(o.range)) fail('INVALID_ARGUMENT', `--range must be one of ${HISTORY_RANGES.join(', ')}, not ${o.range}`);
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 0) fail('INVALID_ARGUMENT', `--limit must be a whole number (0: all), not ${o.limit}`);
      const h = await new HistoryClient(connectionFrom(g())).vm(name, o.range as HistoryRange);
      out(o.json || g().json ? JSON.stringify(h, null, 2) + '\n' : historyTable(h, limit));
    });
}
