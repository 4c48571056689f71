import { describe, expect, it } from 'vitest';
import { PolyvisorError } from '../shared/index.js';
import type { BulkReport, VmState } from '../spec/index.js';
import { mapLimit, runBulk, type BulkRunRequest } from './bulk-run.js';
import type { OperationContext } from './operations.js';

function ctx(controller = new AbortController()) {
  const seen: { progress: number[]; details: BulkReport[] } = { progress: [], details: [] };
  const c: OperationContext = {
    signal: controller.signal,
    progress: (f) => seen.progress.push(f),
    detail: (d) => seen.details.push(d as unknown as BulkReport),
  };
  return { c, seen, controller };
}

const targets = (xs: Array<[string, VmState]>) => xs.map(([name, state]) => ({ name, state }));

function request(o: Partial<BulkRunRequest>): BulkRunRequest {
  return {
    action: 'start', selector: 'env=test', names: null, concurrency: 4, dryRun: false,
    targets: targets([['a', 'stopped'], ['b', 'stopped'], ['c', 'stopped']]),
    skipReason: (t) => (t.state === 'running' ? 'start is not possible while running' : undefined),
    act: async () => ({ after: 'running' }),
    ...o,
  };
}

describe('mapLimit', () => {
  it('never runs more than the limit at once and keeps order', async () => {
    let running = 0;
    let peak = 0;
    const res = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n * 5));
      running--;
      return n * 10;
    });
    expect(res).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });
});

describe('runBulk', () => {
  it('a failure in the middle: the others finish, BULK_FAILED names the failed VM and why, the report stays in the detail', async () => {
    const { c, seen } = ctx();
    const acted: string[] = [];
    const r = request({
      concurrency: 1,
      act: async (name) => {
        acted.push(name);
        if (name === 'b') throw new PolyvisorError('QEMU_START_FAILED', 'QEMU exited at once');
        return { after: 'running', output: { n: name } };
      },
    });
    const err = await runBulk(r, c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolyvisorError);
    expect((err as PolyvisorError).code).toBe('BULK_FAILED');
    expect((err as PolyvisorError).message).toBe('start failed for 1 of 3 VMs: b (QEMU_START_FAILED)');
    expect(acted).toEqual(['a', 'b', 'c']);
    const last = seen.details.at(-1)!;
    expect(last).toMatchObject({ total: 3, done: 3, ok: 2, failed: 1, skipped: 0 });
    expect(last.results.map((x) => [x.vm, x.result, x.after, x.error?.code ?? null])).toEqual([
      ['a', 'ok', 'running', null], ['b', 'failed', null, 'QEMU_START_FAILED'], ['c', 'ok', 'running', null],
    ]);
    expect([...new Set(seen.progress)]).toEqual([0, 1 / 3, 2 / 3, 1]); // done of total, published as each VM begins and ends
  });

  it('skips VMs whose state forbids the action; a dry run acts on none', async () => {
    const { c } = ctx();
    let calls = 0;
    const act = async () => { calls++; return { after: 'running' as const }; };
    const rep = await runBulk(request({ act, dryRun: true, targets: targets([['a', 'running'], ['b', 'stopped']]) }), c);
    expect(calls).toBe(0);
    expect(rep.results.map((x) => [x.vm, x.result, x.reason])).toEqual([['a', 'skipped', 'start is not possible while running'], ['b', 'planned', 'would start it']]);
    expect(rep).toMatchObject({ total: 2, done: 2, ok: 0, skipped: 1, dryRun: true });
  });

  it('selecting no VM succeeds with an empty report', async () => {
    const { c } = ctx();
    expect(await runBulk(request({ targets: [] }), c)).toMatchObject({ total: 0, done: 0, results: [] });
  });

  it('at most `concurrency` VMs at once', async () => {
    const { c } = ctx();
    let running = 0;
    let peak = 0;
    const act = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 10));
      running--;
      return { after: 'running' as const };
    };
    await runBulk(request({ act, concurrency: 2, targets: targets([['a', 'stopped'], ['b', 'stopped'], ['c', 'stopped'], ['d', 'stopped'], ['e', 'stopped']]) }), c);
    expect(peak).toBe(2);
  });

  it('a cancel skips the VMs not yet begun and ends with the cancel reason', async () => {
    const { c, seen, controller } = ctx();
    const act = async (name: string) => {
      if (name === 'a') controller.abort(new PolyvisorError('ABORTED', 'cancelled'));
      return { after: 'running' as const };
    };
    await expect(runBulk(request({ act, concurrency: 1 }), c)).rejects.toThrow('cancelled');
    expect(seen.details.at(-1)!.results.map((x) => x.result)).toEqual(['ok', 'skipped', 'skipped']);
  });
});
