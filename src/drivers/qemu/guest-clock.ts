/**
 * The guest's clock after it stood still (paused, suspended to disk, moved):
 * its clock resumes where it stopped, so it is behind the host by the time
 * it stood. Through the guest agent, `guest-set-time` with the host's time
 * puts it right (QEMU's agent calls settimeofday, then writes the RTC with
 * hwclock). Best effort and in the background: a guest without an agent, or
 * one that does not answer, keeps its clock (the doctor's clock check says so).
 */
import { GuestAgentClient } from '../../qmp/index.js';
import { sleep, timeoutSignal, type Logger } from '../../shared/index.js';

const ATTEMPTS = 4;
const CALL_TIMEOUT_MS = 3_000;
/** A guest this close to the host needs no setting. */
const CLOSE_ENOUGH_NS = 100e6;

export interface ClockTarget {
  agentEnabled: boolean;
  agentSocket: string;
  log: Logger;
}

/** Sets the guest's clock to the host's; resolves to the skew (ns, guest - host) left afterwards, or null if the agent never answered. */
export async function setGuestClock(t: ClockTarget, why: string): Promise<number | null> {
  if (!t.agentEnabled) return null;
  for (let i = 0; i < ATTEMPTS; i++) {
    let agent: GuestAgentClient | undefined;
    try {
      const signal = timeoutSignal(CALL_TIMEOUT_MS);
      agent = await GuestAgentClient.connect(t.agentSocket, { signal, timeoutMs: CALL_TIMEOUT_MS });
      const before = await agent.execute<number>('guest-get-time', undefined, { signal, timeoutMs: CALL_TIMEOUT_MS }) - hostNs();
      if (Math.abs(before) > CLOSE_ENOUGH_NS) {
        // An error after settimeofday (e.g. no hwclock in the guest) still leaves the system clock set: read it back.
        await agent.execute('guest-set-time', { time: hostNs() }, { signal, timeoutMs: CALL_TIMEOUT_MS }).catch((err: unknown) => {
          t.log.debug({ err: (err as Error).message }, 'guest-set-time reported an error');
        });
      }
      const after = await agent.execute<number>('guest-get-time', undefined, { signal, timeoutMs: CALL_TIMEOUT_MS }) - hostNs();
      t.log.info({ why, skewBeforeMs: Math.round(before / 1e6), skewAfterMs: Math.round(after / 1e6) }, 'guest clock set from the host');
      return after;
    } catch (err) {
      t.log.debug({ err: (err as Error).message, attempt: i + 1 }, 'guest agent did not answer for the clock');
      await sleep(1_000);
    } finally {
      agent?.close();
    }
  }
  t.log.info({ why }, 'guest clock not set: the guest agent did not answer');
  return null;
}

/** setGuestClock without waiting for it (after a resume, a restore or a move). */
export function setGuestClockSoon(t: ClockTarget, why: string): void {
  setGuestClock(t, why).catch((err: unknown) => t.log.warn({ err }, 'setting the guest clock failed'));
}

function hostNs(): number {
  return Date.now() * 1e6;
}
