import { describe, expect, it } from 'vitest';
import { PolyvisorError, sleep } from '../shared/index.js';
import type { OperationView } from '../spec/index.js';
import { OperationRegistry } from './operations.js';

describe('OperationRegistry', () => {
  it('runs work, reports progress and keeps the result', async () => {
    const reg = new OperationRegistry();
    const seen: OperationView[] = [];
    reg.on('operation', (o) => seen.push(o));
    const op = reg.start('vm.start', 'web', 'local', async (ctx) => {
      ctx.progress(0.5);
      return { ok: true };
    });
    expect(op.status).toBe('running');
    const done = await reg.wait(op.id, 1000);
    expect(done).toMatchObject({ status: 'succeeded', progress: 1, result: { ok: true }, vm: 'web', actor: 'local' });
    expect(seen.map((o) => [o.status, o.progress])).toEqual([['running', 0], ['running', 0.5], ['succeeded', 1]]);
    expect(reg.list({ vm: 'web' }).map((o) => o.id)).toEqual([op.id]);
  });

  it('cancels through the AbortSignal and records the catalogue error', async () => {
    const reg = new OperationRegistry();
    const op = reg.start('vm.start', 'web', 'ci', (ctx) => sleep(10_000, ctx.signal));
    expect(reg.cancel(op.id).status).toBe('running');
    const done = await reg.wait(op.id, 1000);
    expect(done.status).toBe('cancelled');
    expect(done.error?.code).toBe('ABORTED');
  });

  it('wait returns the running operation when the timeout passes; failures keep their code; run rethrows', async () => {
    const reg = new OperationRegistry();
    const slow = reg.start('vm.stop', 'a', 'local', () => sleep(300));
    expect((await reg.wait(slow.id, 20)).status).toBe('running');
    const bad = reg.start('vm.stop', 'a', 'local', async () => {
      throw new PolyvisorError('VM_NOT_FOUND', 'gone');
    });
    expect((await reg.wait(bad.id, 1000)).error).toMatchObject({ code: 'VM_NOT_FOUND', message: 'gone' });
    await expect(reg.run('vm.x', null, 'local', async () => { throw new PolyvisorError('VM_BUSY', 'busy'); })).rejects.toMatchObject({ code: 'VM_BUSY' });
    expect(() => reg.get('op-nope')).toThrow(/no operation/);
  });

  it('forgets finished operations beyond its limit', async () => {
    const reg = new OperationRegistry({ keep: 2 });
    for (let i = 0; i < 4; i++) await reg.run('k', null, 'local', async () => i);
    reg.start('k', null, 'local', async () => 9);
    expect(reg.list().length).toBeLessThanOrEqual(3);
  });
});
