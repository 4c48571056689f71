/** Guest filesystem freeze/thaw through the guest agent, for application-consistent disk snapshots. */
import { GuestAgentClient } from '../../qmp/index.js';
import type { Logger } from '../../shared/index.js';

/** How long the agent gets to answer; a guest without an agent costs at most this. */
export const AGENT_FREEZE_TIMEOUT_MS = 3_000;

export async function agentCall(socket: string, command: string, signal: AbortSignal, log: Logger): Promise<boolean> {
  let agent: GuestAgentClient | undefined;
  try {
    agent = await GuestAgentClient.connect(socket, { signal, timeoutMs: AGENT_FREEZE_TIMEOUT_MS });
    await agent.execute(command, undefined, { signal, timeoutMs: 30_000 });
    return true;
  } catch (err) {
    if (signal.aborted) throw err;
    log.info({ err: (err as Error).message, command }, 'guest agent did not answer');
    return false;
  } finally {
    agent?.close();
  }
}
