import { describe, expect, it } from 'vitest';
import type { QmpClient } from '../../qmp/index.js';
import { loadSnapshot } from './snapshot-jobs.js';

/** A QMP stand-in: records commands, concludes jobs at once, fails snapshot-load while a bitmap exists (as QEMU does). */
function fakeQmp(bitmaps: Array<{ name: string; persistent: boolean; granularity: number }>) {
  const calls: Array<[string, Record<string, unknown> | undefined]> = [];
  let live = [...bitmaps];
  let lastJob = '';
  let jobError: string | undefined;
  const qmp = {
    once: async () => ({ event: 'JOB_STATUS_CHANGE', data: { id: lastJob, status: 'concluded' }, timestamp: { seconds: 0, microseconds: 0 } }),
    execute: async (cmd: string, args?: Record<string, unknown>) => {
      calls.push([cmd, args]);
      if (cmd === 'x-debug-query-block-graph') {
        return { nodes: [{ id: 1, name: '/machine/peripheral/dev-data/virtio-backend', type: 'block-backend' }, { id: 2, name: 'disk-data', type: 'block-driver' }], edges: [{ parent: 1, child: 2, name: 'root' }] };
      }
      if (cmd === 'query-named-block-nodes') return [{ 'node-name': 'disk-data', 'dirty-bitmaps': live }, { 'node-name': 'file-data' }];
      if (cmd === 'block-dirty-bitmap-remove') live = live.filter((b) => b.name !== args!['name']);
      if (cmd === 'block-dirty-bitmap-add') live.push({ name: String(args!['name']), persistent: Boolean(args!['persistent']), granularity: 65536 });
      if (cmd === 'snapshot-load') {
        lastJob = String(args!['job-id']);
        jobError = live.length > 0 ? 'Device has active dirty bitmaps' : undefined;
      }
      if (cmd === 'query-jobs') return [{ id: lastJob, status: 'concluded', ...(jobError ? { error: jobError } : {}) }];
      return {};
    },
  };
  return { qmp: qmp as unknown as QmpClient, calls, bitmaps: () => live };
}

describe('loadSnapshot and dirty bitmaps', () => {
  it('removes every bitmap before snapshot-load and re-creates it afterwards', async () => {
    const f = fakeQmp([{ name: 'pv-backup', persistent: true, granularity: 65536 }]);
    const r = await loadSnapshot(f.qmp, 'a', ['data'], AbortSignal.timeout(5000));
    expect(r.bitmapsReset).toEqual(['pv-backup']);
    const order = f.calls.map((c) => c[0]);
    expect(order.indexOf('block-dirty-bitmap-remove')).toBeLessThan(order.indexOf('snapshot-load'));
    expect(order.indexOf('block-dirty-bitmap-add')).toBeGreaterThan(order.indexOf('snapshot-load'));
    expect(f.bitmaps()).toEqual([{ name: 'pv-backup', persistent: true, granularity: 65536 }]);
    expect(order).toContain('job-dismiss');
  });

  it('without bitmaps just loads', async () => {
    const f = fakeQmp([]);
    expect((await loadSnapshot(f.qmp, 'a', ['data'], AbortSignal.timeout(5000))).bitmapsReset).toEqual([]);
    expect(f.calls.find((c) => c[0] === 'snapshot-load')?.[1]).toMatchObject({ tag: 'a', vmstate: 'disk-data', devices: ['disk-data'] });
  });
});
