import { describe, expect, it } from 'vitest';
import { PolyvisorError } from './errors.js';
import { run } from './spawn.js';

describe('run', () => {
  it('a cancel kills the child and says ABORTED; a watchdog abort with a catalogue error reports that error', async () => {
    const user = new AbortController();
    const p1 = run('sleep', ['30'], { timeoutMs: 60_000, signal: user.signal });
    setTimeout(() => user.abort(), 50);
    await expect(p1).rejects.toMatchObject({ code: 'ABORTED', message: 'sleep was cancelled' });

    const watchdog = new AbortController();
    const p2 = run('sleep', ['30'], { timeoutMs: 60_000, signal: watchdog.signal });
    setTimeout(() => watchdog.abort(new PolyvisorError('TIMEOUT', 'copying data to the target: gave up after 600 s, no progress for 600 s; last seen: 41.0 %')), 50);
    await expect(p2).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringMatching(/no progress .* last seen: 41\.0 %/) });
  });
});
