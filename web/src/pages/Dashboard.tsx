/** Hosts and VMs at a glance, kept current by the event and stats streams. */
import { useEffect, useMemo, useState } from 'react';
import { useCan, useStore } from '../api/store.js';
import type { VmView } from '../api/types.js';
import { BulkBar } from '../components/BulkBar.js';
import { Link } from '../components/Link.js';
import { Sparkline } from '../components/Sparkline.js';
import { StateBadge } from '../components/StateBadge.js';
import { bytes, last, pct, rate } from '../format.js';
import { HostGraphs } from '../features/datacenter/HostGraphs.js';
import { useQuery } from '../router.js';

let marked = false;

export function Dashboard() {
  const all = useStore((s) => s.vms);
  const onHost = useQuery('host');
  const vms = useMemo(() => (onHost ? new Map([...all].filter(([, v]) => v.host === onHost)) : all), [all, onHost]);
  const loaded = useStore((s) => s.loaded);
  const health = useStore((s) => s.health);
  const host = useStore((s) => s.host);
  const rates = useStore((s) => s.rates);
  const list = useMemo(() => [...vms.values()].sort((a, b) => a.name.localeCompare(b.name)), [vms]);
  // Ticked VMs for the bulk bar; a VM that is removed drops out of the selection.
  const [ticked, setTicked] = useState<ReadonlySet<string>>(new Set());
  const selected = useMemo(() => list.filter((v) => ticked.has(v.name)).map((v) => v.name), [list, ticked]);
  const canOperate = useCan('vm:operate');
  const canSnapshot = useCan('vm:snapshot');
  const canBulk = canOperate || canSnapshot;
  const tick = (name: string, on: boolean): void => setTicked((t) => { const n = new Set(t); if (on) n.add(name); else n.delete(name); return n; });
  const counts = useMemo(() => list.reduce<Record<string, number>>((c, v) => ({ ...c, [v.state]: (c[v.state] ?? 0) + 1 }), {}), [list]);

  useEffect(() => {
    if (!loaded || marked) return;
    marked = true;
    // The moment the VM table shows the daemon's data: bench/web.ts reads this mark.
    requestAnimationFrame(() => performance.mark('pv-dashboard-ready', { detail: { vms: list.length } }));
  }, [loaded, list.length]);

  return (
    <>
      <section className="hosts" aria-label="Hosts">
        <div className="card host">
          <h2><Link to={`/?host=${encodeURIComponent(health?.host ?? '')}`}>{health?.host ?? 'host'}</Link></h2>
          <dl className="kv">
            <dt>CPU</dt><dd><span className="num">{pct(last(host?.cpu))}</span> <Sparkline values={host?.cpu ?? []} max={1} label="host CPU" /></dd>
            <dt>Memory</dt><dd><span className="num">{host ? `${bytes(host.memUsed)} / ${bytes(host.memTotal)}` : '—'}</span> <Sparkline values={host?.mem ?? []} max={1} label="host memory" /></dd>
            <dt>Load</dt><dd className="num">{host ? `${host.load.toFixed(2)} on ${host.cpus} CPUs` : '—'}</dd>
            <dt>VMs</dt><dd className="num">{list.length} ({Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ') || 'none'})</dd>
            <dt>Daemon</dt><dd>polyvisord {health?.version ?? ''}</dd>
          </dl>
        </div>
      </section>
      {onHost && <HostGraphs host={onHost} />}
      <section aria-labelledby="vms-title">
        <h1 id="vms-title">Virtual machines{onHost ? <span className="muted small"> on {onHost}</span> : null}</h1>
        {canBulk && list.length > 0 && <BulkBar selected={selected} onClear={() => setTicked(new Set())} />}
        {!loaded ? <p className="muted">Loading…</p> : list.length === 0 ? <p className="muted">No VMs yet. <Link to="/create">Create one</Link>.</p> : (
          <div className="table-wrap">
            <table className="vms" data-testid="vm-table">
              <thead><tr><th>{canBulk && <input type="checkbox" className="pick" aria-label="select every VM" data-testid="pick-all" checked={selected.length > 0 && selected.length === list.length} onChange={(e) => setTicked(new Set(e.target.checked ? list.map((v) => v.name) : []))} />}Name</th><th>State</th><th className="r">vCPU</th><th className="r">Memory</th><th>CPU</th><th title="resident memory of the VM's QEMU process on the host: guest RAM it touched plus QEMU's own">QEMU holds</th><th>Disk I/O</th><th>Network</th></tr></thead>
              <tbody>{list.map((v) => <Row key={v.name} vm={v} r={rates.get(v.name)} pick={canBulk ? { on: ticked.has(v.name), set: (on) => tick(v.name, on) } : undefined} />)}</tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

/** `pick`: the row's checkbox for bulk actions (absent when the user may not act on VMs). */
function Row({ vm, r, pick }: { vm: VmView; r: { cpu: number[]; mem: number[]; disk: number[]; net: number[] } | undefined; pick: { on: boolean; set: (on: boolean) => void } | undefined }) {
  const on = vm.state === 'running' || vm.state === 'paused';
  return (
    <tr data-vm={vm.name}>
      <td>{pick && <input type="checkbox" className="pick" aria-label={`select ${vm.name}`} checked={pick.on} onChange={(e) => pick.set(e.target.checked)} />}<Link to={`/vms/${encodeURIComponent(vm.name)}`}>{vm.name}</Link></td>
      <td><StateBadge state={vm.state} /></td>
      <td className="r num">{vm.spec.cpu.count}</td>
      <td className="r num">{bytes(vm.spec.memory)}</td>
      <td className="metric"><span className="num">{on ? pct(last(r?.cpu)) : '—'}</span><Sparkline values={on ? r?.cpu ?? [] : []} max={1} label={`${vm.name} CPU`} /></td>
      <td className="metric"><span className="num">{on ? bytes(last(r?.mem)) : '—'}</span><Sparkline values={on ? r?.mem ?? [] : []} max={vm.spec.memory * 1.25} label={`${vm.name} memory`} /></td>
      <td className="metric"><span className="num">{on ? rate(last(r?.disk)) : '—'}</span><Sparkline values={on ? r?.disk ?? [] : []} label={`${vm.name} disk`} /></td>
      <td className="metric"><span className="num">{on ? rate(last(r?.net)) : '—'}</span><Sparkline values={on ? r?.net ?? [] : []} label={`${vm.name} network`} /></td>
    </tr>
  );
}
