/** One host of the cluster page: state, capacity bars, its VMs, cordon/uncordon/drain (disabled with the reason when not allowed). */
import type { HostView } from '../../../../src/spec/host-views.js';
import { capacityBars, hostActions, type HostAction } from './capacity.js';

const LABEL: Record<HostAction, string> = { cordon: 'Cordon', uncordon: 'Uncordon', drain: 'Drain' };

export function HostCard(p: { host: HostView; vms: ReadonlyArray<{ name: string; state: string }>; canAdmin: boolean; clustered: boolean; onAction: (a: HostAction) => void }) {
  const h = p.host;
  return (
    <section className="host-card" data-host={h.name} aria-label={`host ${h.name}`}>
      <h3>{h.name}{h.self ? ' (this host)' : ''} <span className={`state state-${h.state}`} data-state={h.state}>{h.state}</span></h3>
      {h.pool ? <p>pool {h.pool}</p> : null}
      {capacityBars(h).map((b) => (
        <div className="capacity" key={b.label} data-resource={b.label}>
          <span>{b.label}</span>
          <meter min={0} max={Math.max(b.total, b.used)} value={b.used} high={b.total * 0.85} title={`${b.percent}%`} />
          <span>{b.text} ({b.percent}%)</span>
        </div>
      ))}
      <ul className="host-vms">
        {p.vms.map((v) => <li key={v.name}><a href={`/vms/${encodeURIComponent(v.name)}`}>{v.name}</a> <span data-state={v.state}>{v.state}</span></li>)}
        {p.vms.length === 0 ? <li>no VMs</li> : null}
      </ul>
      <div className="host-actions">
        {hostActions(h, { canAdmin: p.canAdmin, clustered: p.clustered }).map((a) => (
          <button key={a.action} type="button" disabled={!a.enabled} title={a.why || undefined} onClick={() => p.onAction(a.action)}>{LABEL[a.action]}</button>
        ))}
      </div>
    </section>
  );
}
