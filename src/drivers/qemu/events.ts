/** QMP events → DriverEvents (the vocabulary lifecycle/ understands). */
import type { QmpEvent } from '../../qmp/index.js';
import type { DriverEvent } from '../driver.js';

interface GuestReason {
  guest?: boolean;
  reason?: string;
}

/**
 * Maps one QMP event; undefined for events lifecycle does not care about.
 * `pauseReason` names why the vCPUs stopped (our own command, a save, an I/O error…).
 */
export function mapQmpEvent(e: QmpEvent, pauseReason: () => string): DriverEvent | undefined {
  const data = (e.data ?? {}) as GuestReason;
  switch (e.event) {
    case 'STOP':
      return { type: 'paused', reason: pauseReason() };
    case 'RESUME':
      return { type: 'resumed' };
    case 'RESET':
      return { type: 'reset', guest: data.guest ?? false };
    case 'SHUTDOWN':
      return { type: 'shutdown', guest: data.guest ?? false, reason: data.reason ?? 'unknown' };
    case 'POWERDOWN':
      return { type: 'powerdown-requested' };
    default:
      return undefined;
  }
}

/** query-status `status` values that mean "vCPUs stopped, `cont` resumes". */
export const PAUSED_STATES: ReadonlySet<string> = new Set(['paused', 'suspended', 'io-error']);
