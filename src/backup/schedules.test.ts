import { describe, expect, it } from 'vitest';
import { isPolyvisorError, silentLogger } from '../shared/index.js';
import { BackupScheduler, type BackupSchedule, type ScheduleRunResult } from './schedules.js';

/** The meta table as a map, a clock the test moves, and a run that records which schedules ran. */
function rig(startIso: string) {
  const meta = new Map<string, string>();
  let now = new Date(startIso).getTime();
  const runs: string[] = [];
  const make = (fail = false) => new BackupScheduler({
    meta: { getMeta: async (k) => meta.get(k), setMeta: async (k, v) => void meta.set(k, v) },
    clock: () => new Date(now),
    logger: silentLogger,
    run: async (s: BackupSchedule): Promise<ScheduleRunResult> => {
      runs.push(s.name);
      if (fail) throw new Error('target full');
      return { at: new Date(now).toISOString(), backedUp: [{ vm: s.vm ?? '?', id: 'x', kind: 'full' }], pruned: [], failed: [] };
    },
  });
  return { make, runs, advance: (s: number) => (now += s * 1000) };
}

describe('backup scheduler', () => {
  it('runs a schedule when due, then an interval after its last run', async () => {
    const r = rig('2026-11-22T10:00:00Z');
    const s = r.make();
    const v = await s.create({ name: 'web-often', vm: 'web', when: 'every 10s', retention: { keepLast: 2 } });
    expect(v.nextRunAt).toBe('2026-11-22T10:00:10.000Z');
    r.advance(5);
    expect(await s.tick()).toEqual([]);
    r.advance(5);
    expect(await s.tick()).toEqual(['web-often']);
    const after = await s.get('web-often');
    expect(after.lastRunAt).toBe('2026-11-22T10:00:10.000Z');
    expect(after.nextRunAt).toBe('2026-11-22T10:00:20.000Z');
    expect(after.lastResult?.backedUp).toHaveLength(1);
  });

  it('after downtime a missed run happens once, at start', async () => {
    const r = rig('2026-11-22T10:00:00Z');
    await r.make().create({ name: 'nightly', selector: { tier: 'db' }, when: 'daily 02:00' });
    r.advance(3 * 86_400); // three nights missed
    const restarted = r.make();
    expect(await restarted.tick()).toEqual(['nightly']);
    expect(await restarted.tick()).toEqual([]);
    expect(r.runs).toEqual(['nightly']);
    expect((await restarted.get('nightly')).nextRunAt).toBe('2026-11-26T02:00:00.000Z');
  });

  it('keeps a failed run in its history, skips disabled schedules, validates input', async () => {
    const r = rig('2026-11-22T10:00:00Z');
    const s = r.make(true);
    await s.create({ name: 'a', vm: 'web', when: 'every 5s' });
    await s.create({ name: 'off', vm: 'web', when: 'every 5s', enabled: false });
    r.advance(6);
    expect(await s.tick()).toEqual(['a']);
    expect((await s.get('a')).lastResult?.failed).toEqual([{ vm: 'web', error: 'target full' }]);
    expect((await s.get('off')).nextRunAt).toBeNull();
    const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isPolyvisorError(e) ? e.code : String(e)));
    expect(await code(s.create({ name: 'a', vm: 'web', when: 'every 5s' }))).toBe('SCHEDULE_EXISTS');
    expect(await code(s.create({ name: 'b', when: 'every 5s' }))).toBe('INVALID_ARGUMENT');
    expect(await code(s.create({ name: 'b', vm: 'web', selector: { a: 'b' }, when: 'every 5s' }))).toBe('INVALID_ARGUMENT');
    expect(await code(s.create({ name: 'b', vm: 'web', when: 'hourly' }))).toBe('INVALID_ARGUMENT');
    expect(await code(s.create({ name: '../b', vm: 'web', when: 'every 5s' }))).toBe('INVALID_NAME');
    expect(await code(s.get('zzz'))).toBe('SCHEDULE_NOT_FOUND');
    await s.update('off', { vm: 'db', when: 'weekly mon 01:00', enabled: true });
    expect(await s.get('off')).toMatchObject({ vm: 'db', enabled: true, nextRunAt: '2026-11-23T01:00:00.000Z' });
    await s.remove('off');
    expect((await s.list()).map((x) => x.name)).toEqual(['a']);
  });
});
