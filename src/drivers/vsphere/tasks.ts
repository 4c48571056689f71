/**
 * vSphere tasks: a `*_Task` method returns a Task object at once; the work's
 * outcome is its TaskInfo (state queued|running|success|error, progress 0–100,
 * error, result). Followed by reading TaskInfo, first quickly then every
 * 500 ms; progress reported as it moves; a failed task becomes the catalogue
 * error its fault maps to (ENDPOINT_TASK_FAILED with vSphere's message,
 * INVALID_TRANSITION for a power-state refusal).
 */
import { PolyvisorError, abortError, sleep } from '../../shared/index.js';
import type { Progress } from '../endpoint.js';
import { faultError } from './faults.js';
import type { Properties } from './property-collector.js';
import type { SoapClient } from './soap-client.js';
import { num, ref, text, xsiType, type MoRef, type Node, type SoapObject } from './soap-envelope.js';

export interface TaskOutcome {
  /** TaskInfo.result (a MoRef for CloneVM_Task, CreateSnapshot_Task…), raw. */
  result: unknown;
}

/** Calls a `*_Task` method and follows the task to its end. */
export async function runTask(
  soap: SoapClient,
  props: Properties,
  method: string,
  self: MoRef,
  params: SoapObject,
  o: { signal: AbortSignal; vm?: string; what: string; onProgress?: Progress },
): Promise<TaskOutcome> {
  const b = await soap.call(method, self, params, o.signal, o.vm);
  const task = ref(b.returnval);
  if (!task) throw new PolyvisorError('ENDPOINT_PROTOCOL', `${method} returned no task`);
  return followTask(props, task, o);
}

export async function followTask(
  props: Properties,
  task: MoRef,
  o: { signal: AbortSignal; vm?: string; what: string; onProgress?: Progress },
): Promise<TaskOutcome> {
  let delay = 25;
  let last = -1;
  for (;;) {
    const p = await props.one(task, ['info.state', 'info.progress', 'info.error', 'info.result'], o.signal);
    const state = text(p['info.state']);
    if (state === 'success') {
      if (last < 1) o.onProgress?.(1, o.what);
      return { result: p['info.result'] };
    }
    if (state === 'error') {
      const err = (p['info.error'] ?? {}) as Node;
      const fault = err.fault;
      throw faultError({ faultstring: text(err.localizedMessage) ?? '', type: xsiType(fault), detail: (fault as Node) ?? null }, o.what, o.vm);
    }
    const pct = num(p['info.progress']);
    if (pct !== null && pct / 100 !== last) {
      last = pct / 100;
      o.onProgress?.(last, o.what);
    }
    try {
      await sleep(delay, o.signal);
    } catch {
      throw abortError(o.signal, o.what);
    }
    delay = Math.min(500, delay * 2);
  }
}
