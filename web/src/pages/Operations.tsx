/** Running and recent operations (tasks) with their progress; cancel where the role may; one operation in full at ?op=ID. */
import { useEffect, useMemo, useState } from 'react';
import { api, enc, errorText } from '../api/client.js';
import { useCan, useStore } from '../api/store.js';
import type { OperationView } from '../api/types.js';
import { Link } from '../components/Link.js';
import { when } from '../format.js';
import { duration, opHref, useNow } from '../components/TaskLog.js';
import { useQuery } from '../router.js';

export default function Operations() {
  const ops = useStore((s) => s.ops);
  const list = useMemo(() => [...ops.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)), [ops]);
  const running = list.filter((o) => o.status === 'running');
  const done = list.filter((o) => o.status !== 'running').slice(0, 100);
  const picked = useQuery('op');
  return (
    <>
      <h1>Tasks</h1>
      {picked && <OpDetail id={picked} />}
      <section className="card" aria-labelledby="running-ops">
        <h2 id="running-ops">Running ({running.length})</h2>
        {running.length === 0 ? <p className="muted">Nothing running.</p> : <OpTable ops={running} label="Running tasks" />}
      </section>
      <section className="card" aria-labelledby="recent-ops">
        <h2 id="recent-ops">Recent</h2>
        {done.length === 0 ? <p className="muted">None kept (finished operations are kept for an hour).</p> : <OpTable ops={done} label="Recent tasks" />}
      </section>
    </>
  );
}

function OpTable({ ops, label }: { ops: OperationView[]; label: string }) {
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label={label}><table>
      <thead><tr><th>Kind</th><th>VM</th><th>Status</th><th>Progress</th><th>By</th><th>Started</th><th><span className="sr-only">Cancel</span></th></tr></thead>
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
      <td>{full ? <Link to={opHref(op)}>{op.kind}</Link> : op.kind}</td>
      {full && <td>{op.vm ? <Link to={`/vms/${enc(op.vm)}`}>{op.vm}</Link> : '—'}</td>}
      <td><span className={`state op-${op.status}`}>{op.status}</span>{op.error && <span className="small error" title={op.error.hint}> {op.error.message}</span>}{error && <span className="small error"> {error}</span>}</td>
      <td><progress max={1} value={op.progress} aria-label={`${op.kind} progress`} /> <span className="num small">{Math.round(op.progress * 100)}%</span></td>
      {full && <td>{op.actor}</td>}
      <td className="small">{when(op.createdAt)}</td>
      <td>{canCancel && op.status === 'running' && <button type="button" className="danger-outline" onClick={cancel}>cancel</button>}</td>
    </tr>
  );
}

/** One operation in full: what, who, when, how long, its result or error, its live detail. A task link opens it. */
function OpDetail({ id }: { id: string }) {
  const live = useStore((s) => s.ops.get(id));
  const [read, setRead] = useState<OperationView | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    if (!live) api<OperationView>('GET', `/v1/operations/${enc(id)}`).then(setRead, (e: unknown) => setError(errorText(e)));
  }, [id, live === undefined]);
  const op = live ?? read;
  const now = useNow(op?.status === 'running');
  if (!op) return <section className="card" aria-label="Task">{error ? <p className="error" role="alert">{error}</p> : <p className="muted">Loading…</p>}</section>;
  return (
    <section className="card op-detail" aria-labelledby="op-title" data-testid="op-detail" data-op={op.id} data-status={op.status}>
      <h2 id="op-title">{op.kind}{op.vm ? <> on <Link to={`/vms/${enc(op.vm)}`}>{op.vm}</Link></> : null}</h2>
      <dl className="kv">
        <dt>Status</dt><dd><span className={`state op-${op.status}`}>{op.status}</span></dd>
        <dt>Progress</dt><dd><progress max={1} value={op.progress} aria-label="task progress" /> <span className="num">{Math.round(op.progress * 100)}%</span></dd>
        <dt>By</dt><dd>{op.actor}</dd>
        <dt>Started</dt><dd>{when(op.createdAt)}</dd>
        <dt>Finished</dt><dd>{when(op.finishedAt)}</dd>
        <dt>Duration</dt><dd className="num" data-testid="op-duration">{duration(op, now)}</dd>
        <dt>Id</dt><dd className="mono small">{op.id}</dd>
        {op.error && <><dt>Error</dt><dd className="error">{op.error.code}: {op.error.message}{op.error.hint ? ` — ${op.error.hint}` : ''}</dd></>}
      </dl>
      {op.detail && <details><summary>Detail</summary><pre className="code">{JSON.stringify(op.detail, null, 2)}</pre></details>}
      {op.result !== undefined && <details><summary>Result</summary><pre className="code">{JSON.stringify(op.result, null, 2)}</pre></details>}
    </section>
  );
}
