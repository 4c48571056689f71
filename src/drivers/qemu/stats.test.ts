import { describe, expect, it } from 'vitest';
import { validateSpec } from '../../spec/index.js';
import { cpuSecondsOfStat, diskCounters } from './stats.js';

describe('QEMU stats', () => {
  it('reads utime+stime from a /proc stat line whose comm has spaces and parens', () => {
    const line = '1234 (qemu-system (x) 86) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 0 0';
    expect(cpuSecondsOfStat(line)).toBe(3);
  });

  it('matches query-blockstats entries to spec disks by node name or qdev path', () => {
    const spec = validateSpec({ name: 'v', disks: [{ name: 'root', path: '/tmp/r.qcow2' }, { name: 'data', path: '/tmp/d.qcow2' }, { name: 'gone', path: '/tmp/g.qcow2' }] });
    const st = (n: number) => ({ rd_bytes: n, wr_bytes: 2 * n, rd_operations: 1, wr_operations: 2, flush_operations: 3, rd_total_time_ns: 1e9, wr_total_time_ns: 2e9 });
    const res = diskCounters(spec, [
      { device: '', qdev: '/machine/peripheral/dev-root/virtio-backend', stats: st(10) },
      { device: '', 'node-name': 'disk-data', stats: st(20) },
    ]);
    expect(res).toEqual([
      { disk: 'root', readBytes: 10, writeBytes: 20, readOps: 1, writeOps: 2, flushOps: 3, readSeconds: 1, writeSeconds: 2 },
      { disk: 'data', readBytes: 20, writeBytes: 40, readOps: 1, writeOps: 2, flushOps: 3, readSeconds: 1, writeSeconds: 2 },
    ]);
  });
});
