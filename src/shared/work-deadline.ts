/**
 * Deadlines that follow the work instead of a constant. A wait on something
 * that reports how much is left (a disk mirror, a backup or snapshot job, a
 * migration stream) gives up only when it stops gaining for `stallMs`, and
 * can say how long the rest should take at the rate measured so far. When it
 * gives up, the error says what it waited for, for how long, and what it saw
 * last.
 */
import { PolyvisorError } from './errors.js';

export interface WorkDeadlineOptions {
  /** Give up after this long without a new low of what is left. */
  stallMs: number;
  /** expectedMs() is never less than this. */
  floorMs?: number;
  /** expectedMs() is the measured time for what is left, times this (default 4). */
  factor?: number;
  now?: () => number;
}

export class WorkDeadline {
  private readonly t0: number;
  private best = Number.POSITIVE_INFINITY;
  private first: { at: number; left: number } | undefined;
  private lastGainAt: number;
  private last = '';
  private readonly now: () => number;

  constructor(private readonly what: string, private readonly o: WorkDeadlineOptions) {
    this.now = o.now ?? Date.now;
    this.t0 = this.now();
    this.lastGainAt = this.t0;
  }

  /** Records what is left (bytes or any unit) and how it looked; returns true when it was a new low. */
  sample(left: number, seen: string): boolean {
    const at = this.now();
    this.last = seen;
    this.first ??= { at, left };
    if (left < this.best) {
      this.best = left;
      this.lastGainAt = at;
      return true;
    }
    return false;
  }

  /** Milliseconds since the last gain. */
  stalledMs(): number {
    return this.now() - this.lastGainAt;
  }

  /** True once nothing was gained for the stall limit. */
  stalled(): boolean {
    return this.stalledMs() >= this.o.stallMs;
  }

  /** Units per second gained since the first sample (0 when nothing was gained yet). */
  rate(): number {
    if (!this.first || !Number.isFinite(this.best)) return 0;
    const s = (this.now() - this.first.at) / 1000;
    return s > 0 ? Math.max(0, (this.first.left - this.best) / s) : 0;
  }

  /** How long what is left should take at the measured rate, times the factor, at least the floor. */
  expectedMs(left = this.best): number {
    const floor = this.o.floorMs ?? 0;
    const r = this.rate();
    if (!Number.isFinite(left) || left <= 0) return floor;
    if (r <= 0) return Math.max(floor, this.o.stallMs);
    return Math.max(floor, Math.ceil((left / r) * 1000 * (this.o.factor ?? 4)));
  }

  /** The TIMEOUT error for giving up now. */
  timeout(reason = `no progress for ${secs(this.stalledMs())}`): PolyvisorError {
    return new PolyvisorError('TIMEOUT', `${this.what}: gave up after ${secs(this.now() - this.t0)}, ${reason}; last seen: ${this.last || 'nothing'}`, {
      details: { waitedMs: this.now() - this.t0, stalledMs: this.stalledMs(), lastSeen: this.last },
    });
  }

  /** Throws the TIMEOUT error once stalled. */
  check(): void {
    if (this.stalled()) throw this.timeout();
  }
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** "12.0 of 32.0 MiB" for messages. */
export function mibOf(done: number, total: number): string {
  return `${(done / 1024 ** 2).toFixed(1)} of ${(total / 1024 ** 2).toFixed(1)} MiB`;
}
