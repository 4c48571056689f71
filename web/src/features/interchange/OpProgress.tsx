/**
 * One long import or export followed to its end: the operation the route
 * answered with (202, async=true), then its `operation` events from the
 * event stream (the store), so nothing polls. Shows progress, the error with
 * its hint, and hands the finished operation to `onEnd` once.
 */
import { useEffect, useRef } from 'react';
import { useStore } from '../../api/store.js';
import type { OperationView } from '../../api/types.js';

export function useOperation(first: OperationView | null): OperationView | null {
  const live = useStore((s) => (first ? s.ops.get(first.id) : undefined));
  return live ?? first;
}

export function OpProgress({ op, label, onEnd }: { op: OperationView; label: string; onEnd?: (op: OperationView) => void }) {
  const ended = useRef(false);
  useEffect(() => {
    if (op.status !== 'running' && !ended.current) {
      ended.current = true;
      onEnd?.(op);
    }
  }, [op, onEnd]);
  return (
    <div className="progress-line" data-testid="op-progress" data-status={op.status} aria-live="polite">
      <progress max={1} value={op.progress} aria-label={`${label} progress`} />
      <span className="num small">{Math.round(op.progress * 100)}% · {op.status}</span>
      {op.error && <span className="error" role="alert">{op.error.code}: {op.error.message}{op.error.hint ? ` — ${op.error.hint}` : ''}</span>}
    </div>
  );
}
