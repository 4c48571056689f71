/** One VM: its state and actions, then tabs for the details, the guest's own account, consoles, snapshots, backups, migration and activity. */
import { lazy, Suspense, useEffect, useState } from 'react';
import { enc } from '../api/client.js';
import { refreshVm, useCan, useStore } from '../api/store.js';
import type { VmView } from '../api/types.js';
import { Link } from '../components/Link.js';
import { StateBadge } from '../components/StateBadge.js';
import { ORDER, RISKY, removeVm, vmAction } from '../features/vms/actions.js';
import { GuestInfo } from '../features/vms/GuestInfo.js';
import { VmGraphs } from '../features/vms/VmGraphs.js';
import { VmNics } from '../features/vms/VmNics.js';
import { VmResize } from '../features/vms/VmResize.js';
import { allActions } from '../registry.js';
import { VmActivity } from './VmActivity.js';
import { VmDetails } from './VmDetails.js';
import { Snapshots } from './Snapshots.js';
import { Backups } from './Backups.js';
import { Migration } from './Migration.js';
import { ExportPanel } from '../features/interchange/index.js';

const SerialConsole = lazy(() => import('./SerialConsole.js'));
const VncConsole = lazy(() => import('./VncConsole.js'));

/** The key the registry gives a VM action (features/vms). */
const keyOf = (action: string): string | undefined => allActions().find((a) => a.id === `vm.${action}`)?.key;

const TABS = ['summary', 'guest', 'console', 'display', 'snapshots', 'backups', 'migration', 'export', 'activity'] as const;
type Tab = (typeof TABS)[number];

export default function VmPage({ name }: { name: string }) {
  const vm = useStore((s) => s.vms.get(name));
  const loaded = useStore((s) => s.loaded);
  const [tab, setTab] = useState<Tab>(() => (TABS as readonly string[]).includes(location.hash.slice(1)) ? location.hash.slice(1) as Tab : 'summary');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState('');
  const canOperate = useCan('vm:operate');
  const canWrite = useCan('vm:write');

  useEffect(() => { void refreshVm(name); }, [name]);
  useEffect(() => { history.replaceState(null, '', `${location.pathname}#${tab}`); }, [tab]);
  useEffect(() => {
    // A link or the address bar that changes only the hash opens that tab.
    const follow = (): void => { const h = location.hash.slice(1); if ((TABS as readonly string[]).includes(h)) setTab(h as Tab); };
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);

  if (!vm) return loaded ? <p>No VM named <b>{name}</b>. <Link to="/">Back to the dashboard</Link></p> : <p className="muted">Loading…</p>;

  const act = async (action: string): Promise<void> => {
    setError('');
    setBusy(action);
    setError(await vmAction(vm, action));
    setBusy('');
  };
  const remove = async (): Promise<void> => setError(await removeVm(vm));

  return (
    <article className="vm-page">
      <header className="vm-head">
        <h1>{vm.name}</h1>
        <StateBadge state={vm.state} />
        <span className="muted small reason">{vm.stateReason}</span>
      </header>
      <div className="toolbar" role="toolbar" aria-label="VM actions">
        {canOperate && ORDER.filter((a) => vm.actions.includes(a)).map((a) => (
          <button key={a} type="button" aria-keyshortcuts={keyOf(a)} title={keyOf(a) ? `key ${keyOf(a)}` : undefined} className={RISKY[a] ? 'danger-outline' : ''} disabled={busy !== ''} onClick={() => void act(a)} data-action={a}>{a}</button>
        ))}
        {canWrite && <Link to={`/vms/${enc(vm.name)}/clone`} className="button">clone</Link>}
        {canWrite && <Link to={`/create?wizard&clone=${enc(vm.name)}`} className="button" data-testid="clone-wizard">clone in steps</Link>}
        {canWrite && <Link to={`/create?wizard&from=${enc(vm.name)}`} className="button" data-testid="template-wizard">new from template</Link>}
        {canWrite && vm.state !== 'running' && vm.state !== 'paused' && <Link to={`/vms/${enc(vm.name)}/edit`} className="button">edit</Link>}
        {canWrite && vm.state !== 'running' && vm.state !== 'paused' && <button type="button" className="danger-outline" onClick={() => void remove()}>delete</button>}
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      <div className="tabs" role="tablist" aria-label="VM sections">
        {TABS.map((t) => <button key={t} type="button" role="tab" aria-selected={tab === t} className={tab === t ? 'tab on' : 'tab'} onClick={() => setTab(t)}>{t}</button>)}
      </div>
      <section className="tab-body" role="tabpanel" aria-label={tab}>
        <Suspense fallback={<p className="muted">Loading…</p>}>{body(tab, vm)}</Suspense>
      </section>
    </article>
  );
}

function body(tab: Tab, vm: VmView) {
  switch (tab) {
    case 'summary': return <><VmGraphs vm={vm} /><VmDetails vm={vm} /><VmResize vm={vm} /><VmNics vm={vm} /></>;
    case 'guest': return <GuestInfo vm={vm} />;
    case 'console': return <SerialConsole vm={vm} />;
    case 'display': return <VncConsole vm={vm} />;
    case 'snapshots': return <Snapshots vm={vm} />;
    case 'backups': return <Backups vm={vm} />;
    case 'migration': return <Migration vm={vm} />;
    case 'export': return <ExportPanel vm={vm} />;
    case 'activity': return <VmActivity vm={vm} />;
  }
}
