import { describe, expect, it } from 'vitest';
import { PolyvisorError } from '../../shared/index.js';
import type { QmpClient } from '../../qmp/index.js';
import { GuestBalloon, guestMemoryOf } from './balloon.js';

const NOT_REPORTED = 2 ** 64; // QEMU sends 2^64-1, which JSON.parse reads as 2^64

/** A report as QEMU 7.2 answered it for the test guest (128 MiB VM). */
const report = {
  stats: {
    'stat-total-memory': 97075200, 'stat-available-memory': 63778816, 'stat-free-memory': 57905152,
    'stat-disk-caches': 12230656, 'stat-swap-in': 0, 'stat-htlb-pgfail': NOT_REPORTED,
  },
  'last-update': 1796414778,
};

describe('balloon statistics', () => {
  it('used is total minus available, with the time of the report', () => {
    expect(guestMemoryOf(report)).toEqual({ totalBytes: 97075200, availableBytes: 63778816, usedBytes: 97075200 - 63778816, reportedAt: 1796414778000 });
  });

  it('no report yet (last-update 0, figures 2^64-1) is null, not a figure', () => {
    const none = { stats: Object.fromEntries(Object.keys(report.stats).map((k) => [k, NOT_REPORTED])), 'last-update': 0 };
    expect(guestMemoryOf(none)).toBeNull();
    expect(guestMemoryOf({ ...none, 'last-update': 5 })).toBeNull();
  });

  it('falls back to free memory when the kernel reports no available figure', () => {
    const old = { ...report, stats: { ...report.stats, 'stat-available-memory': NOT_REPORTED } };
    expect(guestMemoryOf(old)?.usedBytes).toBe(97075200 - 57905152);
  });

  it('a QEMU without the device (started before it existed) is asked once, then reads null', async () => {
    const calls: string[] = [];
    const qmp = {
      execute: (command: string) => {
        calls.push(command);
        return Promise.reject(new PolyvisorError('QMP_FAILED', `${command}: Device 'balloon0' not found`));
      },
    } as unknown as QmpClient;
    const b = new GuestBalloon(qmp);
    const signal = new AbortController().signal;
    expect(await b.read(signal)).toBeNull();
    expect(await b.read(signal)).toBeNull();
    expect(calls).toEqual(['qom-set']);
  });

  it('sets the polling interval once, then reads the report', async () => {
    const calls: Array<[string, unknown]> = [];
    const qmp = {
      execute: (command: string, args: unknown) => {
        calls.push([command, args]);
        return Promise.resolve(command === 'qom-get' ? report : {});
      },
    } as unknown as QmpClient;
    const b = new GuestBalloon(qmp);
    const signal = new AbortController().signal;
    await b.read(signal);
    expect((await b.read(signal))?.usedBytes).toBe(97075200 - 63778816);
    expect(calls.map((c) => c[0])).toEqual(['qom-set', 'qom-get', 'qom-get']);
    expect(calls[0]![1]).toEqual({ path: '/machine/peripheral/balloon0', property: 'guest-stats-polling-interval', value: 2 });
  });
});
