/**
 * Downsampling from the 10 s ring to the 1 min ring, as RRD's AVERAGE does:
 * each figure of a minute point is the mean of the non-null figures of the
 * 10 s points in that minute (null when all were null). Pure.
 */
import { COARSE, stepStart } from './tiers.js';

export type Figures = Record<string, number | null>;

/** Bytes and rates (large figures) to whole numbers, percentages and loads to two decimals: smaller answers, no false precision. */
export const roundFigure = (x: number): number => (Math.abs(x) >= 1000 ? Math.round(x) : Math.round(x * 100) / 100);

/** Means of each figure over the points given (which must share their keys). */
export function average<F extends Figures>(points: readonly F[]): F {
  const out: Figures = {};
  const first = points[0];
  if (!first) return out as F;
  for (const k of Object.keys(first)) {
    let sum = 0;
    let n = 0;
    for (const p of points) {
      const v = p[k];
      if (v !== null && v !== undefined) {
        sum += v;
        n++;
      }
    }
    out[k] = n === 0 ? null : roundFigure(sum / n);
  }
  return out as F;
}

/**
 * Collects a series' 10 s figures per minute. `add` answers the finished
 * minute (its start and average) when a point of a later minute arrives;
 * `flush` answers the open minute, e.g. when the series stops or at shutdown.
 */
export class MinuteAverager<F extends Figures> {
  private minute: number | null = null;
  private points: F[] = [];

  add(t: number, f: F): { t: number; figures: F } | null {
    const m = stepStart(COARSE, t);
    const done = this.minute !== null && m !== this.minute ? this.flush() : null;
    this.minute = m;
    this.points.push(f);
    return done;
  }

  /** The minute collected so far, or null when empty. */
  flush(): { t: number; figures: F } | null {
    if (this.minute === null || this.points.length === 0) return null;
    const done = { t: this.minute, figures: average(this.points) };
    this.minute = null;
    this.points = [];
    return done;
  }

  /** Start of the minute being collected, or null. */
  get openMinute(): number | null {
    return this.minute;
  }
}
