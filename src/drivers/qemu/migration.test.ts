/** MigrationEvents: a wait between query-migrate samples ends at the next MIGRATION event. */
import { describe, expect, it } from 'vitest';
import type { QmpClient, QmpEvent } from '../../qmp/index.js';
import { MigrationEvents } from './migration.js';

/** Just enough of a QMP client to deliver events (the real one is tested in src/qmp). */
function fakeQmp(): { qmp: QmpClient; emit: (name: string) => void; listeners: () => number } {
  const set = new Set<(e: QmpEvent) => void>();
  const qmp = { on: (_t: 'event', l: (e: QmpEvent) => void) => (set.add(l), () => set.delete(l)) } as unknown as QmpClient;
  return { qmp, emit: (event) => set.forEach((l) => l({ event, data: {}, timestamp: { seconds: 0, microseconds: 0 } } as QmpEvent)), listeners: () => set.size };
}

describe('MigrationEvents', () => {
  it('a MIGRATION event ends the wait at once; other events do not', async () => {
    const f = fakeQmp();
    const ev = new MigrationEvents(f.qmp);
    const t0 = Date.now();
    const nap = ev.nap(5_000);
    f.emit('STOP');
    setTimeout(() => f.emit('MIGRATION'), 20);
    await nap;
    expect(Date.now() - t0).toBeLessThan(2_000);
    ev.close();
    expect(f.listeners()).toBe(0);
  });

  it('an event that came while no wait was pending cuts the next wait short, once', async () => {
    const f = fakeQmp();
    const ev = new MigrationEvents(f.qmp);
    f.emit('MIGRATION');
    const t0 = Date.now();
    await ev.nap(5_000);
    expect(Date.now() - t0).toBeLessThan(1_000);
    const t1 = Date.now();
    await ev.nap(60);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(50);
    ev.close();
  });

  it('rejects when the signal aborts', async () => {
    const f = fakeQmp();
    const ev = new MigrationEvents(f.qmp);
    const ac = new AbortController();
    const nap = ev.nap(5_000, ac.signal);
    ac.abort();
    await expect(nap).rejects.toMatchObject({ code: 'ABORTED' });
    ev.close();
  });
});
