/**
 * The task log along the bottom: the latest operations of every user, live
 * from the event stream (`operation` events) after one GET /v1/operations per
 * connection: what, on which object, who, status, progress, when and how
 * long. A row opens the operation's page. The rows are fixed slots, so a new
 * task changes their text, never the layout.
 */
import { useEffect, useMemo, useState } from 'react';
import { useCan, useStore } from '../api/store.js';
import type { OperationView } from '../api/types.js';
import { navigate } from '../router.js';
import { Link } from './Link.js';

const SLOTS = 5;

export function duration(op: OperationView, now: number): string {
  const end = op.finishedAt ? Date.parse(op.finishedAt) : now;
  const s = Math.max(0, (end - Date.parse(op.createdAt)) / 1000);
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** The current time, every second while `on`. */
export function useNow(on: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [on]);
  return now;
}

/** What a task acted on: its VM, or for a bulk the number of VMs it names. */
export function objectOf(op: OperationView): string {
  if (op.vm) return op.vm;
  const total = op.detail?.['total'];
  return typeof total === 'number' ? `${total} VM${total === 1 ? '' : 's'}` : '—';
}

export const opHref = (op: OperationView): string => `/operations?op=${encodeURIComponent(op.id)}`;

export function TaskLog() {
  const ops = useStore((s) => s.ops);
  const mayRead = useCan('operation:read');
  const [open, setOpen] = useState(() => window.matchMedia?.('(min-width: 761px)').matches ?? true);
  const list = useMemo(() => [...ops.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)), [ops]);
  const running = list.filter((o) => o.status === 'running').length;
  const now = useNow(open && running > 0);
  const rows = list.slice(0, SLOTS);
  return (
    <footer className="tasklog" aria-label="Task log">
      <div className="tasklog-head">
        <button type="button" className="small-btn" aria-expanded={open} aria-controls="tasklog-body" onClick={() => setOpen(!open)}>{open ? '▾' : '▸'} Tasks</button>
        <span className="small muted" role="status" data-testid="tasks-running">{running} running · {list.length} recent</span>
        <Link to="/operations" className="small">all tasks</Link>
      </div>
      <div id="tasklog-body" hidden={!open}>
        {!mayRead ? <p className="small muted">Your role may not read operations.</p> : (
          <table className="tasks" data-testid="task-log">
            <thead><tr><th>Task</th><th>Object</th><th>User</th><th>Status</th><th>Progress</th><th className="wide">Started</th><th>Duration</th></tr></thead>
            <tbody>
              {Array.from({ length: SLOTS }, (_, i) => {
                const op = rows[i];
                if (!op) return <tr key={i} className="empty" aria-hidden="true"><td colSpan={7}>&nbsp;</td></tr>;
                return (
                  <tr key={i} data-op={op.id} data-kind={op.kind} data-vm={op.vm ?? ''} data-status={op.status} className="clickable" onClick={(e) => { if (!(e.target instanceof HTMLAnchorElement)) navigate(opHref(op)); }}>
                    <td><Link to={opHref(op)}>{op.kind}</Link></td>
                    <td>{objectOf(op)}</td>
                    <td>{op.actor}</td>
                    <td><span className={`state op-${op.status}`}>{op.status}</span>{op.error && <span className="small error" title={op.error.hint}> {op.error.code}</span>}</td>
                    <td><progress max={1} value={op.progress} aria-label={`${op.kind} ${op.vm ?? ''} progress`} /> <span className="num small pct">{Math.round(op.progress * 100)}%</span></td>
                    <td className="small num wide">{new Date(op.createdAt).toLocaleTimeString(undefined, { hour12: false })}</td>
                    <td className="small num" data-testid="task-duration">{duration(op, now)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </div>
    </footer>
  );
}
