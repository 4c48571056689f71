import { describe, expect, it } from 'vitest';
import type { VmHistoryPoint } from '../spec/index.js';
import { historyTable } from './history-commands.js';

const T = Date.UTC(2026, 11, 4, 12, 0, 0);
const point = (t: number, o: Partial<VmHistoryPoint> = {}): VmHistoryPoint => ({
  t, cpuPercent: 12.345, memHostBytes: 250 * 2 ** 20, memGuestUsedBytes: null, memGuestTotalBytes: 128 * 2 ** 20,
  diskReadBps: 2048, diskWriteBps: 0, netRxBps: null, netTxBps: null, ...o,
});

describe('vm history table', () => {
  it('one row per point, unknown figures as "-", a gap as a row of its own, the newest rows when limited', () => {
    const h = { range: '1h' as const, stepSeconds: 10, points: [point(T), point(T + 10_000), point(T + 610_000, { cpuPercent: null })] };
    const text = historyTable(h, 0);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('3 points, every 10 s, times UTC');
    expect(lines[1]).toMatch(/^TIME\s+CPU%\s+MEM HOST\s+MEM GUEST USED \/ SIZE/);
    expect(lines[2]).toMatch(/^12:00:00\s+12\.3\s+250 MiB\s+- \/ 128 MiB\s+2 KiB\/s \/ 0 B\/s\s+- \/ -$/);
    expect(lines[4]).toMatch(/^…\s+not running 10 min/);
    expect(lines[5]).toMatch(/^12:10:10\s+-\s+/);
    expect(historyTable(h, 1).split('\n')[0]).toMatch(/the newest 1 shown/);
    expect(historyTable({ ...h, points: [] }, 30)).toBe('no points in the last 1h (the VM did not run)\n');
  });
});
