/**
 * One stack operation (apply or destroy) followed to its end: progress, the
 * step report (every object with its action and result) and the error.
 */
import { useEffect, useState } from 'react';
import { api, enc, errorText } from '../../api/client.js';
import type { OperationView, StackApplyView } from '../../api/types.js';

export function StackRun({ id, onEnd }: { id: string; onEnd?: (op: OperationView) => void }) {
  const [op, setOp] = useState<OperationView | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = (): void => {
      api<OperationView>('GET', `/v1/operations/${enc(id)}`).then((x) => {
        if (!live) return;
        setOp(x);
        if (x.status === 'running') timer = setTimeout(read, 1_000);
        else onEnd?.(x);
      }, (e: unknown) => { if (live) setError(errorText(e)); });
    };
    read();
    return () => { live = false; clearTimeout(timer); };
  }, [id]);
  if (error) return <p className="error" role="alert">{error}</p>;
  if (!op) return <p className="muted">Reading the operation…</p>;
  const report = (op.result ?? op.detail) as unknown as StackApplyView | null;
  return (
    <div className="card" data-testid="stack-run" data-status={op.status} aria-live="polite">
      <h3>{op.kind}: {op.status}</h3>
      <progress max={1} value={op.progress} aria-label={`${op.kind} progress`} /> <span className="num small">{Math.round(op.progress * 100)}%</span>
      {op.error && <p className="error" role="alert" data-testid="stack-run-error">{op.error.code}: {op.error.message}</p>}
      {report?.steps && (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Steps"><table className="table" data-testid="stack-steps">
          <thead><tr><th>Kind</th><th>Name</th><th>Action</th><th>Result</th><th>Detail</th></tr></thead>
          <tbody>{report.steps.map((s, i) => (
            <tr key={i} data-name={s.name} data-action={s.action} data-result={s.result}>
              <td>{s.kind}</td><td>{s.name}</td><td>{s.action}</td><td>{s.result}</td>
              <td className="small">{s.error ? `${s.error.code}: ${s.error.message}` : `${(s.ms / 1000).toFixed(1)} s`}</td>
            </tr>
          ))}</tbody>
        </table></div>
      )}
    </div>
  );
}
