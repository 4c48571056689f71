/** A running guest's own account of itself, read on demand through its agent (spec/guest-views.ts has the shape). */
import type { GuestInfoView } from '../spec/index.js';

/** The driver's answer is the API's view as it is. */
export type GuestInfo = GuestInfoView;

export interface GuestInfoSource {
  guestInfo(signal: AbortSignal): Promise<GuestInfo>;
}

export function canReportGuestInfo(x: unknown): x is GuestInfoSource {
  return typeof (x as Partial<GuestInfoSource>)?.guestInfo === 'function';
}
