/**
 * The two rings every series keeps, like Proxmox's RRD: 10 s steps for the
 * last hour and 1 min steps for the last day. A point lives in slot
 * floor(t / step) mod slots, so a ring never holds more than `slots` points
 * and a newer point replaces the one a whole ring-length older.
 */
import type { HistoryRange } from '../spec/index.js';

export interface Tier {
  /** Index stored with each point. */
  id: 0 | 1;
  stepMs: number;
  slots: number;
}

export const FINE: Tier = { id: 0, stepMs: 10_000, slots: 360 };
export const COARSE: Tier = { id: 1, stepMs: 60_000, slots: 1440 };

/** Which ring answers a range, and how far back it reaches. */
export function tierOf(range: HistoryRange): { tier: Tier; spanMs: number } {
  switch (range) {
    case '1h': return { tier: FINE, spanMs: 3_600_000 };
    case '6h': return { tier: COARSE, spanMs: 6 * 3_600_000 };
    case '1d': return { tier: COARSE, spanMs: 24 * 3_600_000 };
  }
}

/** Start of the step that holds `t`. */
export const stepStart = (tier: Tier, t: number): number => Math.floor(t / tier.stepMs) * tier.stepMs;

export const slotOf = (tier: Tier, t: number): number => Math.floor(t / tier.stepMs) % tier.slots;
