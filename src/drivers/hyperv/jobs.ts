/**
 * Hyper-V's answers to a method: ReturnValue 0 (done), 4096 (a job was
 * started: its Msvm_ConcreteJob is polled, PercentComplete passed on as
 * progress, until JobState 7 Completed or 8/9/10 Terminated/Killed/Exception
 * with ErrorCode and ErrorDescription), or a failure code. Codes and texts
 * are mapped to the catalogue: 32775 "Invalid state" is INVALID_TRANSITION,
 * 32773 "Invalid parameter" INVALID_ARGUMENT, 32769 "Access denied"
 * ENDPOINT_AUTH_FAILED, the rest ENDPOINT_TASK_FAILED. A job not done in
 * time is TIMEOUT; it goes on in Hyper-V.
 */
import { abortError, anySignal, PolyvisorError, sleep, type ErrorCode } from '../../shared/index.js';
import type { Progress } from '../endpoint.js';
import { num, str } from './cim.js';
import type { InvokeResult, WsmanClient } from './wsman.js';

const RETURN_TEXT: Record<number, string> = {
  32768: 'Failed', 32769: 'Access denied', 32770: 'Not supported', 32771: 'Status is unknown', 32772: 'Timeout', 32773: 'Invalid parameter',
  32774: 'System is in use', 32775: 'Invalid state for this operation', 32776: 'Incorrect data type', 32777: 'System is not available', 32778: 'Out of memory',
};

function codeOf(rv: number): ErrorCode {
  if (rv === 32775) return 'INVALID_TRANSITION';
  if (rv === 32773) return 'INVALID_ARGUMENT';
  if (rv === 32769) return 'ENDPOINT_AUTH_FAILED';
  return 'ENDPOINT_TASK_FAILED';
}

export function returnError(label: string, what: string, rv: number, description?: string | null): PolyvisorError {
  const text = RETURN_TEXT[rv] ?? `code ${rv}`;
  return new PolyvisorError(codeOf(rv), `${label}: ${what} failed (${rv} ${text})${description ? `: ${description}` : ''}`, { details: { returnValue: rv } });
}

export interface FollowOptions {
  timeoutMs: number;
  pollMs: number;
  onProgress?: Progress;
}

const RUNNING = new Set([2, 3, 4, 5, 6]);

/** Resolves once the method's work is done; throws its failure otherwise. */
export async function finish(c: WsmanClient, r: InvokeResult, what: string, signal: AbortSignal, o: FollowOptions): Promise<void> {
  if (r.returnValue === 0) {
    o.onProgress?.(1);
    return;
  }
  if (r.returnValue !== 4096) throw returnError(c.label, what, r.returnValue);
  if (!r.job) throw new PolyvisorError('ENDPOINT_PROTOCOL', `${c.label} started a job for ${what} without naming it`);
  const job = r.job;
  const deadline = AbortSignal.timeout(o.timeoutMs);
  const sig = anySignal([signal, deadline]);
  let wait = o.pollMs;
  let last = -1;
  try {
    for (;;) {
      const j = await c.get(job, sig);
      const state = num(j, 'JobState');
      const pct = num(j, 'PercentComplete');
      if (o.onProgress && pct !== null && pct > last && pct < 100) {
        last = pct;
        o.onProgress(pct / 100, str(j, 'JobStatus') ?? undefined);
      }
      if (state === 7) {
        o.onProgress?.(1);
        return;
      }
      if (state === null || !RUNNING.has(state)) {
        const ec = num(j, 'ErrorCode') ?? 32768;
        throw returnError(c.label, `${what} (job ${job.keys['InstanceID'] ?? '?'}, JobState ${state ?? 'unknown'})`, ec || 32768, str(j, 'ErrorDescription') ?? str(j, 'ErrorSummaryDescription'));
      }
      await sleep(wait, sig);
      wait = Math.min(1000, Math.round(wait * 1.5));
    }
  } catch (err) {
    if (sig.aborted) {
      if (deadline.aborted && !signal.aborted) {
        throw new PolyvisorError('TIMEOUT', `${c.label}: ${what} did not finish within ${Math.round(o.timeoutMs / 1000)} s; the job goes on in Hyper-V (job ${job.keys['InstanceID'] ?? '?'})`, { cause: err });
      }
      throw abortError(signal, `${what} on ${c.label}`);
    }
    throw err;
  }
}
