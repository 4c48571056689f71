/**
 * One host of the cluster page: state, capacity bars, its VMs (each with a
 * move to another ready host), cordon/uncordon/drain (disabled with the
 * reason when not allowed).
 */
import { useState } from 'react';
import type { HostView } from '../../../../src/spec/host-views.js';
import { capacityBars, hostActions, type HostAction } from './capacity.js';

const LABEL: Record<HostAction, string> = { cordon: 'Cordon', uncordon: 'Uncordon', drain: 'Drain' };

export interface MoveProps {
  /** Other ready hosts a VM may move to. */
  targets: readonly string[];
  canMigrate: boolean;
  onMove: (vm: string, to: string) => void;
}

/** Why a VM's move control is disabled, or '' when it is not. */
export function moveWhy(m: MoveProps): string {
  if (!m.canMigrate) return 'needs the vm:migrate permission (role operator or admin)';
  if (m.targets.length === 0) return 'no other ready host';
  return '';
}

function VmMove(p: { vm: string; move: MoveProps }) {
  const [to, setTo] = useState(p.move.targets[0] ?? '');
  const why = moveWhy(p.move);
  return (
    <span className="vm-move">
      <select aria-label={`host to move ${p.vm} to`} value={to} disabled={why !== ''} onChange={(e) => setTo(e.target.value)}>
        {p.move.targets.map((t) => <option key={t} value={t}>{t}</option>)}
      </select>
      <button type="button" disabled={why !== '' || to === ''} title={why || undefined} onClick={() => p.move.onMove(p.vm, to)}>Move</button>
    </span>
  );
}

export function HostCard(p: { host: HostView; vms: ReadonlyArray<{ name: string; state: string }> | null; canAdmin: boolean; clustered: boolean; onAction: (a: HostAction) => void; move?: MoveProps }) {
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
      {p.vms === null ? <p className="host-vms">{h.vms} VM{h.vms === 1 ? '' : 's'} (each host's daemon lists its own: open {h.name}'s web UI to act on them)</p> : <ul className="host-vms">
        {p.vms.map((v) => (
          <li key={v.name} data-vm={v.name}>
            <a href={`/vms/${encodeURIComponent(v.name)}`}>{v.name}</a> <span data-state={v.state}>{v.state}</span>
            {p.move && p.clustered ? <> <VmMove vm={v.name} move={p.move} /></> : null}
          </li>
        ))}
        {p.vms.length === 0 ? <li>no VMs</li> : null}
      </ul>}
      <div className="host-actions">
        {hostActions(h, { canAdmin: p.canAdmin, clustered: p.clustered }).map((a) => (
          <button key={a.action} type="button" disabled={!a.enabled} title={a.why || undefined} onClick={() => p.onAction(a.action)}>{LABEL[a.action]}</button>
        ))}
      </div>
    </section>
  );
}
