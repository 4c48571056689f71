/**
 * guest-exec through QEMU's guest agent: the argv goes as path + arg (the
 * agent execs it, no shell), then guest-exec-status is polled until the
 * process exited or the signal fires (the process is then left to the guest).
 */
import { GuestAgentClient } from '../../qmp/index.js';
import { fail, sleep } from '../../shared/index.js';
import type { GuestExecResult } from '../guest-exec.js';

const CALL_TIMEOUT_MS = 3_000;
const POLL_MS = 100;

interface ExecStatus { exited: boolean; exitcode?: number; signal?: number; 'out-data'?: string; 'err-data'?: string }

const text = (b64: string | undefined): string => (b64 ? Buffer.from(b64, 'base64').toString('utf8') : '');

export async function runGuestExec(agentSocket: string, agentEnabled: boolean, argv: readonly string[], signal: AbortSignal): Promise<GuestExecResult> {
  if (!agentEnabled) fail('AGENT_UNAVAILABLE', 'the VM spec has agent.enabled false: nothing in the guest can run a command');
  const [path, ...args] = argv;
  if (!path) fail('INVALID_ARGUMENT', 'guest-exec needs a command (an argv with at least one element)');
  const agent = await GuestAgentClient.connect(agentSocket, { signal, timeoutMs: CALL_TIMEOUT_MS });
  try {
    const { pid } = await agent.execute<{ pid: number }>('guest-exec', { path, arg: args, 'capture-output': true }, { signal, timeoutMs: CALL_TIMEOUT_MS });
    for (;;) {
      const s = await agent.execute<ExecStatus>('guest-exec-status', { pid }, { signal, timeoutMs: CALL_TIMEOUT_MS });
      if (s.exited) return { exitCode: s.exitcode ?? null, signal: s.signal ?? null, stdout: text(s['out-data']), stderr: text(s['err-data']) };
      await sleep(POLL_MS, signal);
    }
  } finally {
    agent.close();
  }
}
