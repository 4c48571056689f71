/**
 * The virtio-balloon device: every VM gets one (`-device virtio-balloon-pci`),
 * so the guest can report how much of its memory it uses. The device only
 * carries statistics; Polyvisor never inflates it (the VM keeps all its RAM).
 *
 * QEMU asks the guest for statistics only once a polling interval is set
 * (`qom-set … guest-stats-polling-interval`), and the interval is not part of
 * the migrated state: it is set on every QEMU the driver starts, adopts or
 * receives. `qom-get … guest-stats` then answers the guest's last report;
 * figures the guest did not report are 2^64-1, and `last-update` is 0 until
 * the first report (a guest without the virtio_balloon driver never sends one).
 */
import type { QmpClient } from '../../qmp/index.js';
import { isPolyvisorError } from '../../shared/index.js';
import type { GuestMemory } from '../stats.js';
import { opts } from './qemu-opts.js';

export const BALLOON_ID = 'balloon0';
const BALLOON_PATH = `/machine/peripheral/${BALLOON_ID}`;
/** Seconds between the guest's reports (the history samples every 10 s, the web UI's stats stream every 3 s). */
export const GUEST_STATS_INTERVAL_S = 2;

/**
 * Last on the PCI bus (after the hotplug ports), so adding it moved no earlier
 * device's address. No `free-page-reporting`: QEMU would then discard pages
 * the guest frees, which is a memory policy, not a statistic.
 */
export function balloonArgs(): string[] {
  return ['-device', opts('virtio-balloon-pci', [['id', BALLOON_ID]])];
}

export interface BalloonReport {
  stats: Record<string, number>;
  'last-update': number;
}

/** 2^64-1 (QEMU's "not reported") arrives as a JSON number above 2^53. */
const reported = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) || x < 0 || x >= 2 ** 53 ? null : x);

/**
 * The guest's memory from a balloon report: total is what the guest's kernel
 * manages (MemTotal, less than the VM's RAM by what the kernel reserved),
 * used = total − available (MemAvailable: free plus reclaimable caches), as
 * `free` counts it. Without an `available` figure (kernels before 4.6) free
 * memory stands in. Null when the guest has not reported.
 */
export function guestMemoryOf(r: BalloonReport): GuestMemory | null {
  if (!r['last-update']) return null;
  const total = reported(r.stats['stat-total-memory']);
  const available = reported(r.stats['stat-available-memory']) ?? reported(r.stats['stat-free-memory']);
  if (total === null || available === null || available > total) return null;
  return { totalBytes: total, availableBytes: available, usedBytes: total - available, reportedAt: r['last-update'] * 1000 };
}

/** Per QEMU process: turns polling on once, then reads the guest's last report. */
export class GuestBalloon {
  private polling: Promise<boolean> | undefined;

  constructor(private readonly qmp: QmpClient) {}

  /** Sets the polling interval; false when the QEMU has no balloon (started by a daemon before it had one). */
  enable(signal?: AbortSignal): Promise<boolean> {
    this.polling ??= this.qmp
      .execute('qom-set', { path: BALLOON_PATH, property: 'guest-stats-polling-interval', value: GUEST_STATS_INTERVAL_S }, { signal })
      .then(() => true, (err: unknown) => {
        // QEMU's own refusal (no such device) is final; a timeout or an abort is asked again next time.
        if (!isPolyvisorError(err, 'QMP_FAILED')) this.polling = undefined;
        return false;
      });
    return this.polling;
  }

  async read(signal: AbortSignal): Promise<GuestMemory | null> {
    if (!(await this.enable(signal))) return null;
    const report = await this.qmp.execute<BalloonReport>('qom-get', { path: BALLOON_PATH, property: 'guest-stats' }, { signal });
    return guestMemoryOf(report);
  }
}
