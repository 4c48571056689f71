/**
 * The VM list's bulk action bar: the VMs ticked in the table, one button per
 * action the user's role allows, then the bulk's progress (n of m VMs done)
 * and its per-VM results. One request (POST /v1/vms/actions, names = the
 * ticked VMs) runs it as one operation; its events keep the report current.
 */
import { useState } from 'react';
import { api, errorText } from '../api/client.js';
import { useCan, useStore } from '../api/store.js';
import type { BulkReport, OperationView } from '../api/types.js';
import { confirmAction } from './Confirm.js';

interface BulkButton { action: 'start' | 'stop' | 'kill' | 'snapshot'; permission: string; risk?: string }

const BUTTONS: BulkButton[] = [
  { action: 'start', permission: 'vm:operate' },
  { action: 'stop', permission: 'vm:operate', risk: 'Each guest is asked to shut down; after the timeout it is killed, and unsaved data in it may be lost.' },
  { action: 'kill', permission: 'vm:operate', risk: 'Each QEMU process is killed at once, like pulling the plug: unsaved data in the guests is lost.' },
  { action: 'snapshot', permission: 'vm:snapshot' },
];

const reportOf = (op: OperationView | null | undefined): BulkReport | undefined => (op?.detail ? (op.detail as unknown as BulkReport) : undefined);

export function BulkBar({ selected, onClear }: { selected: string[]; onClear: () => void }) {
  const operate = useCan('vm:operate');
  const snapshot = useCan('vm:snapshot');
  const allowed = (b: BulkButton): boolean => (b.permission === 'vm:snapshot' ? snapshot : operate);
  const [opId, setOpId] = useState<string | null>(null);
  const [answered, setAnswered] = useState<OperationView | null>(null);
  const [error, setError] = useState('');
  const live = useStore((s) => (opId ? s.ops.get(opId) : undefined));
  // The event stream keeps the operation current; the wait's answer covers a stream that is down.
  const op = answered?.finishedAt ? answered : live ?? answered;
  const busy = op?.status === 'running';

  const run = async (b: BulkButton): Promise<void> => {
    const n = selected.length;
    const what = `${n} VM${n === 1 ? '' : 's'}`;
    if (b.risk && !(await confirmAction(`${b.action[0]!.toUpperCase()}${b.action.slice(1)} ${what}?`, <><p>{b.risk}</p><p className="small">{selected.join(', ')}</p></>, b.action))) return;
    setError('');
    try {
      const started = await api<OperationView>('POST', '/v1/vms/actions?async=true', { action: b.action, names: selected });
      setOpId(started.id);
      setAnswered(started);
      setAnswered(await api<OperationView>('POST', `/v1/operations/${encodeURIComponent(started.id)}/wait?timeout=3600`));
    } catch (err) {
      setError(errorText(err));
    }
  };

  if (!BUTTONS.some(allowed)) return null;
  const rep = reportOf(op);
  return (
    <div className="bulk" data-testid="bulk-bar">
      <div className="toolbar" role="toolbar" aria-label="Bulk actions">
        <span className="muted" data-testid="bulk-count">{selected.length ? `${selected.length} selected` : 'Tick VMs to act on several at once'}</span>
        {BUTTONS.filter(allowed).map((b) => (
          <button key={b.action} type="button" className={b.risk ? 'danger-outline' : ''} disabled={selected.length === 0 || busy} onClick={() => void run(b)} data-bulk={b.action}>
            {b.action}
          </button>
        ))}
        {selected.length > 0 && <button type="button" onClick={onClear}>clear selection</button>}
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {op && rep && <BulkResults op={op} rep={rep} />}
    </div>
  );
}

function BulkResults({ op, rep }: { op: OperationView; rep: BulkReport }) {
  const state = op.status === 'running' ? 'running' : op.status === 'succeeded' ? 'done' : op.status;
  return (
    <section className="card bulk-report" aria-label="Bulk action results" data-testid="bulk-report" data-status={op.status}>
      <div className="progress-line" role="status" aria-live="polite">
        <progress value={rep.done} max={Math.max(1, rep.total)} />
        <span data-testid="bulk-progress">{rep.action}: {rep.done} of {rep.total} VMs done — {rep.ok} ok, {rep.failed} failed, {rep.skipped} skipped ({state})</span>
      </div>
      {op.error && <p className="error">{op.error.message}</p>}
      <table>
        <thead><tr><th>VM</th><th>Before</th><th>Result</th><th>After</th><th>Detail</th></tr></thead>
        <tbody>
          {rep.results.map((r) => (
            <tr key={r.vm} data-vm={r.vm} data-result={r.result}>
              <td>{r.vm}</td>
              <td>{r.before}</td>
              <td className={r.result === 'ok' ? 'ok' : r.result === 'failed' ? 'error' : 'muted'}>{r.result}</td>
              <td>{r.after ?? '—'}</td>
              <td>{r.error ? `${r.error.code}: ${r.error.message}` : r.reason ?? (r.output ? Object.entries(r.output).map(([k, v]) => `${k} ${String(v)}`).join(', ') : '')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
