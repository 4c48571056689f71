import { describe, expect, it } from 'vitest';
import { KeyedQueue } from './job-queue.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KeyedQueue', () => {
  it('serializes jobs on one key and keeps going after a failure', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const a = q.run('vm', async () => { log.push('a1'); await tick(20); log.push('a2'); });
    const b = q.run('vm', async () => { log.push('b1'); throw new Error('boom'); });
    const c = q.run('vm', async () => { log.push('c1'); return 3; });
    await a;
    await expect(b).rejects.toThrow('boom');
    expect(await c).toBe(3);
    expect(log).toEqual(['a1', 'a2', 'b1', 'c1']);
    expect(q.pending('vm')).toBe(0);
  });

  it('runs different keys in parallel', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    await Promise.all([
      q.run('a', async () => { log.push('a1'); await tick(30); log.push('a2'); }),
      q.run('b', async () => { log.push('b1'); await tick(5); log.push('b2'); }),
    ]);
    expect(log).toEqual(['a1', 'b1', 'b2', 'a2']);
  });
});
