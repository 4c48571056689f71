import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../shared/index.js';
import { average, MinuteAverager } from './consolidate.js';
import { HistoryDb } from './history-db.js';
import { hostFigures, vmFigures, type HostReading, type VmReading } from './rates.js';
import { HistoryRecorder, type HistoryReadings } from './recorder.js';
import { COARSE, FINE, slotOf, stepStart, tierOf } from './tiers.js';

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
const vmReading = (t: number, o: Partial<VmReading> = {}): VmReading => ({
  t, vcpus: 2, cpuSeconds: 10, rssBytes: 200e6, guestUsedBytes: null, guestTotalBytes: 128 * 2 ** 20,
  diskReadBytes: 1000, diskWriteBytes: 2000, netRxBytes: null, netTxBytes: null, ...o,
});
const hostReading = (t: number, o: Partial<HostReading> = {}): HostReading => ({
  t, cpuTotalSeconds: 1000, cpuIdleSeconds: 800, memUsedBytes: 4e9, memTotalBytes: 16e9, load1: 0.5, ...o,
});

describe('rates', () => {
  it('CPU percent of the VM\'s vCPUs and bytes per second from two readings', () => {
    const f = vmFigures(vmReading(T0 + 10_000, { cpuSeconds: 15, diskReadBytes: 11_000, diskWriteBytes: 2000 }), vmReading(T0), 31_000);
    expect(f.cpuPercent).toBe(25); // 5 s of CPU in 10 s over 2 vCPUs
    expect(f.diskReadBps).toBe(1000);
    expect(f.diskWriteBps).toBe(0);
    expect(f.netRxBps).toBeNull(); // no counters
    expect(f.memHostBytes).toBe(200e6);
    expect(f.memGuestTotalBytes).toBe(128 * 2 ** 20);
  });

  it('no rate from a first reading, a gap too long, or a counter that went down (a new QEMU)', () => {
    expect(vmFigures(vmReading(T0), undefined, 31_000).cpuPercent).toBeNull();
    expect(vmFigures(vmReading(T0 + 60_000, { cpuSeconds: 20 }), vmReading(T0), 31_000).cpuPercent).toBeNull();
    const restarted = vmFigures(vmReading(T0 + 10_000, { cpuSeconds: 1, diskReadBytes: 0 }), vmReading(T0), 31_000);
    expect(restarted.cpuPercent).toBeNull();
    expect(restarted.diskReadBps).toBeNull();
    expect(restarted.diskWriteBps).toBe(0);
  });

  it('host CPU percent: busy share of all cores\' time', () => {
    const f = hostFigures(hostReading(T0 + 10_000, { cpuTotalSeconds: 1020, cpuIdleSeconds: 805 }), hostReading(T0), 31_000);
    expect(f.cpuPercent).toBe(75);
    expect(f.load1).toBe(0.5);
    expect(hostFigures(hostReading(T0), undefined, 31_000).cpuPercent).toBeNull();
  });
});

describe('rings and downsampling', () => {
  it('a range picks its ring; slots wrap after the ring\'s length', () => {
    expect(tierOf('1h')).toEqual({ tier: FINE, spanMs: 3_600_000 });
    expect(tierOf('1d').tier).toBe(COARSE);
    expect(FINE.slots * FINE.stepMs).toBe(3_600_000);
    expect(COARSE.slots * COARSE.stepMs).toBe(86_400_000);
    expect(slotOf(FINE, T0)).toBe(slotOf(FINE, T0 + 3_600_000));
    expect(slotOf(FINE, T0)).not.toBe(slotOf(FINE, T0 + 10_000));
    expect(stepStart(FINE, T0 + 9_999)).toBe(T0);
  });

  it('a minute is the mean of its non-null figures', () => {
    expect(average([{ a: 1, b: null }, { a: 3, b: null }, { a: null, b: null }])).toEqual({ a: 2, b: null });
    const m = new MinuteAverager<{ a: number | null }>();
    expect(m.add(T0 + 1_000, { a: 10 })).toBeNull();
    expect(m.add(T0 + 11_000, { a: 20 })).toBeNull();
    expect(m.add(T0 + 61_000, { a: 99 })).toEqual({ t: T0, figures: { a: 15 } });
    expect(m.flush()).toEqual({ t: T0 + 60_000, figures: { a: 99 } });
    expect(m.flush()).toBeNull();
  });
});

describe('recorder on a real SQLite file', () => {
  let dir: string | undefined;
  afterEach(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  /** A recorder fed from a script of readings, with its own clock. */
  function recorder(file: string, clock: { t: number }, readings: () => HistoryReadings) {
    return new HistoryRecorder({ db: new HistoryDb(file), source: { read: async () => readings() }, logger: silentLogger, now: () => clock.t });
  }

  it('keeps 10 s points for the hour and 1 min averages for the day; a stopped VM leaves a gap; all of it survives a reopen', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pv-history-'));
    const file = path.join(dir, 'history.db');
    const clock = { t: T0 };
    let running = true;
    let cpu = 0;
    const rec = recorder(file, clock, () => ({
      host: hostReading(clock.t, { cpuTotalSeconds: clock.t / 50, cpuIdleSeconds: clock.t / 100 }),
      vms: running ? [{ id: 'vm1', reading: vmReading(clock.t, { cpuSeconds: (cpu += 5) }) }] : [],
    }));
    // Two hours at 10 s with the VM stopped for minutes 30..39 of the second hour.
    for (let i = 0; i < 720; i++) {
      clock.t = T0 + i * 10_000 + 1_000;
      running = !(i >= 360 + 180 && i < 360 + 240);
      await rec.tick();
    }
    const hour = rec.vm('vm1', '1h');
    expect(hour.stepSeconds).toBe(10);
    expect(hour.points.length).toBe(360 - 60); // the ring holds one hour; ten minutes stopped are missing
    expect(hour.points.map((p) => p.t)).toEqual([...hour.points.map((p) => p.t)].sort((a, b) => a - b));
    expect(hour.points.every((p) => p.t > clock.t - 3_600_000 - 10_000)).toBe(true);
    const gap = hour.points.findIndex((p, i) => i > 0 && p.t - hour.points[i - 1]!.t > 10_000);
    expect(hour.points[gap]!.t - hour.points[gap - 1]!.t).toBe(610_000);
    expect(hour.points[gap]!.cpuPercent).toBeNull(); // first reading after the start: no rate yet
    expect(hour.points[gap + 1]!.cpuPercent).toBe(25);
    const day = rec.vm('vm1', '1d');
    expect(day.stepSeconds).toBe(60);
    expect(day.points.length).toBe(120 - 10 - 1); // the open minute is not written yet
    expect(day.points.filter((p) => p.cpuPercent === 25).length).toBeGreaterThan(100);
    expect(rec.host('1h').points.at(-1)).toMatchObject({ cpuPercent: 50, memUsedBytes: 4e9, memTotalBytes: 16e9, load1: 0.5 });
    await rec.close();

    const again = recorder(file, clock, () => ({ host: null, vms: [] }));
    expect(again.vm('vm1', '1h')).toEqual(hour);
    expect(again.vm('vm1', '1d').points.length).toBe(day.points.length + 1); // close wrote the open minute
    expect(again.vm('vm1', '6h').points.length).toBe(day.points.length + 1);
    expect(again.vm('other', '1h').points).toEqual([]);
    clock.t += 3_600_000; // an hour later, nothing new: the hour is empty, the day still has it
    expect(again.vm('vm1', '1h').points).toEqual([]);
    expect(again.vm('vm1', '1d').points.length).toBe(day.points.length + 1);
    again.forget('vm1');
    expect(again.vm('vm1', '1d').points).toEqual([]);
    await again.close();
  });

  it('the file stays bounded: one row per slot and ring', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pv-history-'));
    const db = new HistoryDb(path.join(dir, 'h.db'));
    for (let i = 0; i < 3000; i++) {
      db.write([{ series: 's', tier: FINE, t: T0 + i * 10_000, values: [i] }, { series: 's', tier: COARSE, t: T0 + i * 60_000, values: [i] }]);
    }
    expect(db.rowCount()).toBe(FINE.slots + COARSE.slots);
    expect(db.read('s', FINE, 0).at(-1)).toEqual([T0 + 2999 * 10_000, 2999, null, null, null, null, null, null, null]);
    db.close();
  });
});
