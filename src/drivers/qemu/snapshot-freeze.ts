/**
 * Guest filesystem freeze/thaw through the guest agent, for application-
 * consistent disk snapshots. The freeze reports what the agent really did:
 * how many filesystems it froze (qemu-ga's `guest-fsfreeze-freeze` returns
 * the count; a guest on an initramfs or tmpfs freezes none) or why it froze
 * nothing. lifecycle/snapshot-consistency.ts turns that into the label.
 */
import { GuestAgentClient } from '../../qmp/index.js';
import type { Logger } from '../../shared/index.js';
import type { FreezeResult } from '../snapshots.js';

/** How long the agent gets to answer; a guest without an agent costs at most this. */
export const AGENT_FREEZE_TIMEOUT_MS = 3_000;
/** How long freezing (which syncs every filesystem first) may take. */
const FREEZE_CALL_TIMEOUT_MS = 30_000;

/** guest-fsfreeze-freeze; `answered` means the agent was reached, so a thaw is owed even when the freeze failed. */
export async function freezeGuest(socket: string, signal: AbortSignal, log: Logger): Promise<FreezeResult> {
  let agent: GuestAgentClient | undefined;
  try {
    agent = await GuestAgentClient.connect(socket, { signal, timeoutMs: AGENT_FREEZE_TIMEOUT_MS });
  } catch (err) {
    if (signal.aborted) throw err;
    log.info({ err: (err as Error).message }, 'guest agent did not answer; no filesystem frozen');
    return { answered: false, frozen: 0, error: 'the guest agent did not answer' };
  }
  try {
    const n = await agent.execute<unknown>('guest-fsfreeze-freeze', undefined, { signal, timeoutMs: FREEZE_CALL_TIMEOUT_MS });
    const frozen = typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0;
    log.info({ frozen }, 'guest filesystems frozen');
    return { answered: true, frozen };
  } catch (err) {
    if (signal.aborted) throw err;
    const message = (err as Error).message;
    log.warn({ err: message }, 'guest-fsfreeze-freeze failed');
    return { answered: true, frozen: 0, error: message };
  } finally {
    agent.close();
  }
}

/** guest-fsfreeze-thaw; returns the number of filesystems thawed (-1 when the agent did not answer). */
export async function thawGuest(socket: string, signal: AbortSignal, log: Logger): Promise<number> {
  let agent: GuestAgentClient | undefined;
  try {
    agent = await GuestAgentClient.connect(socket, { signal, timeoutMs: AGENT_FREEZE_TIMEOUT_MS });
    const n = await agent.execute<unknown>('guest-fsfreeze-thaw', undefined, { signal, timeoutMs: FREEZE_CALL_TIMEOUT_MS });
    return typeof n === 'number' ? n : 0;
  } catch (err) {
    if (signal.aborted) throw err;
    log.warn({ err: (err as Error).message }, 'guest-fsfreeze-thaw failed');
    return -1;
  } finally {
    agent?.close();
  }
}
