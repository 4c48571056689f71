/**
 * Following an XAPI task (the answer of an Async.* call) to its end: its
 * record is polled (gently slower as it runs) and its `progress` (0-1)
 * passed on; status "success" gives its result (a ref is sent as
 * "<value>OpaqueRef:…</value>"), "failure" its error_info as a catalogue
 * error, "cancelled" too. The finished task is destroyed, as XenCenter and
 * Xen Orchestra do. A task not done in time, or given up by the caller, is
 * cancelled on the pool (task.cancel) before the error is thrown.
 */
import { abortError, anySignal, PolyvisorError, sleep } from '../../shared/index.js';
import type { Progress } from '../endpoint.js';
import type { XapiClient } from './client.js';
import { xapiFailure, XapiError } from './errors.js';

export interface FollowOptions {
  timeoutMs: number;
  pollMs: number;
  onProgress?: Progress;
}

/** The ref inside a task's result ("<value>OpaqueRef:…</value>"), or the text itself. */
export function taskResult(result: unknown): string {
  const s = typeof result === 'string' ? result : '';
  return /<value>([^<]*)<\/value>/.exec(s)?.[1] ?? s;
}

export async function followTask(c: XapiClient, task: unknown, what: string, signal: AbortSignal, o: FollowOptions): Promise<string> {
  if (typeof task !== 'string' || !task.startsWith('OpaqueRef:')) throw new PolyvisorError('ENDPOINT_PROTOCOL', `XCP-ng endpoint ${c.endpoint} answered ${JSON.stringify(task)} where a task reference was expected (${what})`);
  const deadline = AbortSignal.timeout(o.timeoutMs);
  const sig = anySignal([signal, deadline]);
  let wait = o.pollMs;
  let last = -1;
  try {
    for (;;) {
      const t = (await c.call('task.get_record', [task], sig, what, true)) as { status?: string; progress?: number; result?: string; error_info?: string[] };
      const p = typeof t.progress === 'number' ? t.progress : Number(t.progress);
      if (o.onProgress && Number.isFinite(p) && p > 0 && p > last && p < 1) {
        last = p;
        o.onProgress(p);
      }
      if (t.status === 'success') {
        o.onProgress?.(1);
        await c.call('task.destroy', [task], AbortSignal.timeout(10_000), what).catch(() => undefined);
        return taskResult(t.result);
      }
      if (t.status === 'failure' || t.status === 'cancelled') {
        await c.call('task.destroy', [task], AbortSignal.timeout(10_000), what).catch(() => undefined);
        const info = Array.isArray(t.error_info) && t.error_info.length ? t.error_info.map(String) : [t.status === 'cancelled' ? 'TASK_CANCELLED' : 'UNKNOWN_ERROR'];
        const err = xapiFailure(c.endpoint, what, new XapiError(info[0]!, info.slice(1)));
        throw Object.assign(err, { taskFailed: true });
      }
      if (t.status !== 'pending' && t.status !== 'cancelling') throw new PolyvisorError('ENDPOINT_PROTOCOL', `XCP-ng task ${task} has status ${JSON.stringify(t.status)}`);
      await sleep(wait, sig);
      wait = Math.min(1000, Math.round(wait * 1.5));
    }
  } catch (err) {
    if (sig.aborted && !(err as { taskFailed?: boolean }).taskFailed) {
      await c.call('task.cancel', [task], AbortSignal.timeout(10_000), what).catch(() => undefined);
      if (deadline.aborted && !signal.aborted) {
        throw new PolyvisorError('TIMEOUT', `XCP-ng task ${what} did not finish within ${Math.round(o.timeoutMs / 1000)} s; it was cancelled (task ${task})`, { cause: err });
      }
      throw abortError(signal, `${what} on XCP-ng (task ${task})`);
    }
    throw err;
  }
}
