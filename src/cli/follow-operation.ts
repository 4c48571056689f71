/** Waits for an async operation, drawing its progress on stderr; returns it succeeded or throws its error. */
import type { PlatformClient } from '../client/index.js';
import { PolyvisorError, isErrorCode, type ErrorCode } from '../shared/index.js';
import type { OperationView } from '../spec/index.js';
import { ProgressBar } from './progress-bar.js';

export async function followOperation(
  platform: PlatformClient, op: OperationView, o: { progress?: boolean; text?: (cur: OperationView) => string; failCode: ErrorCode },
): Promise<OperationView> {
  const bar = o.progress === false ? undefined : new ProgressBar();
  let cur = op;
  try {
    while (cur.status === 'running') {
      cur = await platform.waitOperation(op.id, 1);
      bar?.update({ fraction: cur.progress, text: o.text?.(cur) ?? op.kind });
    }
  } finally {
    bar?.done();
  }
  if (cur.status !== 'succeeded') {
    const e = cur.error ?? { code: o.failCode, message: `${op.kind} ${cur.status}`, hint: '' };
    throw new PolyvisorError(isErrorCode(e.code) ? e.code : o.failCode, e.message, e.hint ? { hint: e.hint } : undefined);
  }
  return cur;
}
