import { describe, expect, it } from 'vitest';
import type { NumaLocality } from '../drivers/index.js';
import type { VmService } from '../lifecycle/index.js';
import type { Logger } from '../shared/index.js';
import { wireNumaBalancing } from './numa-balancing-wiring.js';
import type { SharedVmSamples } from './vm-samples.js';

const MIB = 1024 * 1024;
/** 86% of 288 MiB on node 1, bound to node 0 (the two-node fixture's numbers; this host has one node). */
const remote: NumaLocality = { nodes: [{ node: 0, bytes: 40 * MIB }, { node: 1, bytes: 248 * MIB }], home: [0], bound: true, remoteBytes: 248 * MIB, remoteRatio: 248 / 288 };

function harness(mode: 'report' | 'migrate', mover?: { movePages: (from: readonly number[], to: readonly number[]) => Promise<void> }) {
  const lines: Array<{ level: string; msg: string }> = [];
  const logger = {
    child: () => logger,
    info: (_o: object, msg: string) => lines.push({ level: 'info', msg }),
    warn: (_o: object, msg: string) => lines.push({ level: 'warn', msg }),
    debug: () => undefined,
  } as unknown as Logger;
  const samples = { get: async () => [{ name: 'db', state: 'running', stats: { numa: remote } }] } as unknown as SharedVmSamples;
  const service = { liveInstance: () => mover } as unknown as VmService;
  const w = wireNumaBalancing({ service, samples, mode, intervalSeconds: 3600, samplesInARow: 2, logger });
  return { w, lines };
}

describe('NUMA balancing wiring (a fake sampling stands in: this host has one NUMA node)', () => {
  it('migrate: after two remote samples it moves node 1 to node 0 through the instance and logs it', async () => {
    const moves: Array<[readonly number[], readonly number[]]> = [];
    const { w, lines } = harness('migrate', { movePages: async (from, to) => void moves.push([from, to]) });
    await w.pass();
    expect(moves).toEqual([]);
    await w.pass();
    w.close();
    expect(moves).toEqual([[[1], [0]]]);
    expect(lines).toEqual([{ level: 'info', msg: expect.stringContaining('VM db: 86% of its resident guest RAM (248 MiB) is on host node(s) 1') }]);
    expect(lines[0]!.msg).toMatch(/moved its pages from node\(s\) 1 to 0/);
  });

  it('migrate: a failed move is a warning with the reason; report: a warning and nothing moved', async () => {
    const failing = harness('migrate', { movePages: async () => { throw new Error('migratepages exited with 1: <7> is invalid'); } });
    await failing.w.pass();
    await failing.w.pass();
    failing.w.close();
    expect(failing.lines).toEqual([{ level: 'warn', msg: expect.stringMatching(/failed: migratepages exited with 1/) }]);
    const report = harness('report', { movePages: async () => { throw new Error('must not be called'); } });
    await report.w.pass();
    await report.w.pass();
    report.w.close();
    expect(report.lines).toEqual([{ level: 'warn', msg: expect.stringMatching(/reported only \(numaBalancing: report\)$/) }]);
  });
});
