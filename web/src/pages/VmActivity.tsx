/** A VM's recent events (from the live stream) and its audit entries (admins). */
import { useEffect, useMemo, useState } from 'react';
import { api, enc, errorText } from '../api/client.js';
import { useCan, useStore } from '../api/store.js';
import type { AuditView, OperationView, VmView } from '../api/types.js';
import { when } from '../format.js';
import { OpRow } from './Operations.js';

export function VmActivity({ vm }: { vm: VmView }) {
  const events = useStore((s) => s.events);
  const ops = useStore((s) => s.ops);
  const canAudit = useCan('audit:read');
  const [audit, setAudit] = useState<AuditView[] | null>(null);
  const [error, setError] = useState('');
  const mine = useMemo(() => events.filter((e) => e.vm === vm.name && e.type !== 'operation').slice(-50).reverse(), [events, vm.name]);
  const myOps = useMemo(() => [...ops.values()].filter((o: OperationView) => o.vm === vm.name).reverse().slice(0, 20), [ops, vm.name]);
  useEffect(() => {
    if (canAudit) api<AuditView[]>('GET', `/v1/audit?resource=${enc(vm.name)}&limit=50`).then(setAudit, (e: unknown) => setError(errorText(e)));
  }, [canAudit, vm.name, myOps.length]);
  return (
    <div className="grid2">
      <div className="card">
        <h2>Events (since this page opened)</h2>
        {mine.length === 0 ? <p className="muted">None yet.</p> : <ul className="plain">{mine.map((e) => (
          <li key={e.seq}><span className="mono small">{when(e.at)}</span> {e.type === 'vm.state' ? <>{e.from} → <b>{e.to}</b> <span className="muted small">{e.reason}</span></>
            : e.type === 'vm.snapshots' || e.type === 'vm.backups' ? <>{e.type === 'vm.snapshots' ? 'snapshot' : 'backup'} {e.name ? <b>{e.name}</b> : null} {e.action}</>
              : e.type === 'vm.removed' ? 'removed' : null}</li>
        ))}</ul>}
        <h2>Operations</h2>
        {myOps.length === 0 ? <p className="muted">None kept.</p> : <table><tbody>{myOps.map((o) => <OpRow key={o.id} op={o} />)}</tbody></table>}
      </div>
      <div className="card">
        <h2>Audit log</h2>
        {!canAudit ? <p className="muted">Only admins read the audit log.</p> : error ? <p className="error">{error}</p> : !audit ? <p className="muted">Loading…</p> : (
          <ul className="plain">{audit.map((a) => (
            <li key={a.id}><span className="mono small">{when(a.at)}</span> <b>{a.actor}</b> {a.action} <span className={a.outcome === 'ok' ? 'ok' : 'error'}>{a.outcome}</span> <span className="muted small">{a.status}</span></li>
          ))}</ul>
        )}
      </div>
    </div>
  );
}
