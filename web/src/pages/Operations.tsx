/** Running and recent operations with their progress; cancel where the role may. */
import { useMemo, useState } from 'react';
import { api, enc, errorText } from '../api/client.js';
import { useCan, useStore } from '../api/store.js';
import type { OperationView } from '../api/types.js';
import { Link } from '../components/Link.js';
import { when } from '../format.js';

export default function Operations() {
  const ops = useStore((s) => s.ops);
  const list = useMemo(() => [...ops.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)), [ops]);
  const running = list.filter((o) => o.status === 'running');
  const done = list.filter((o) => o.status !== 'running').slice(0, 100);
  return (
    <>
      <h1>Operations</h1>
      <section className="card" aria-labelledby="running-ops">
        <h2 id="running-ops">Running ({running.length})</h2>
        {running.length === 0 ? <p className="muted">Nothing running.</p> : <OpTable ops={running} />}
      </section>
      <section className="card" aria-labelledby="recent-ops">
        <h2 id="recent-ops">Recent</h2>
        {done.length === 0 ? <p className="muted">None kept (finished operations are kept for an hour).</p> : <OpTable ops={done} />}
      </section>
    </>
  );
}

function OpTable({ ops }: { ops: OperationView[] }) {
  return (
    <div className="table-wrap"><table>
      <thead><tr><th>Kind</th><th>VM</th><th>Status</th><th>Progress</th><th>By</th><th>Started</th><th /></tr></thead>
      <tbody>{ops.map((o) => <OpRow key={o.id} op={o} full />)}</tbody>
    </table></div>
  );
}

export function OpRow({ op, full = false }: { op: OperationView; full?: boolean }) {
  const canCancel = useCan('operation:cancel');
  const [error, setError] = useState('');
  const cancel = (): void => void api('DELETE', `/v1/operations/${enc(op.id)}`).catch((e: unknown) => setError(errorText(e)));
  return (
    <tr data-op={op.id}>
      <td>{op.kind}</td>
      {full && <td>{op.vm ? <Link to={`/vms/${enc(op.vm)}`}>{op.vm}</Link> : '—'}</td>}
      <td><span className={`state op-${op.status}`}>{op.status}</span>{op.error && <span className="small error" title={op.error.hint}> {op.error.message}</span>}{error && <span className="small error"> {error}</span>}</td>
      <td><progress max={1} value={op.progress} aria-label={`${op.kind} progress`} /> <span className="num small">{Math.round(op.progress * 100)}%</span></td>
      {full && <td>{op.actor}</td>}
      <td className="small">{when(op.createdAt)}</td>
      <td>{canCancel && op.status === 'running' && <button type="button" className="danger-outline" onClick={cancel}>cancel</button>}</td>
    </tr>
  );
}
