/** One VM: its state and actions, then tabs for the details, consoles, snapshots, backups, migration and activity. */
import { lazy, Suspense, useEffect, useState } from 'react';
import { api, enc, errorText } from '../api/client.js';
import { refreshVm, useCan, useStore } from '../api/store.js';
import type { VmView } from '../api/types.js';
import { confirmAction } from '../components/Confirm.js';
import { Link } from '../components/Link.js';
import { StateBadge } from '../components/StateBadge.js';
import { navigate } from '../router.js';
import { VmActivity } from './VmActivity.js';
import { VmDetails } from './VmDetails.js';
import { Snapshots } from './Snapshots.js';
import { Backups } from './Backups.js';
import { Migration } from './Migration.js';

const SerialConsole = lazy(() => import('./SerialConsole.js'));
const VncConsole = lazy(() => import('./VncConsole.js'));

const TABS = ['summary', 'console', 'display', 'snapshots', 'backups', 'migration', 'activity'] as const;
type Tab = (typeof TABS)[number];

/** Actions that may lose the guest's unsaved data ask first. */
const RISKY: Record<string, string> = {
  stop: 'The guest is asked to shut down; after the timeout it is killed, and unsaved data in it may be lost.',
  kill: 'The QEMU process is killed at once, like pulling the plug: unsaved data in the guest is lost.',
  reboot: 'The guest is reset; programs running in it lose unsaved data.',
};
const ORDER = ['start', 'stop', 'pause', 'resume', 'reboot', 'suspend', 'kill'];

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

  if (!vm) return loaded ? <p>No VM named <b>{name}</b>. <Link to="/">Back to the dashboard</Link></p> : <p className="muted">Loading…</p>;

  const act = async (action: string): Promise<void> => {
    const risk = RISKY[action];
    if (risk && !(await confirmAction(`${action[0]!.toUpperCase()}${action.slice(1)} ${vm.name}?`, <p>{risk}</p>, action))) return;
    setError('');
    setBusy(action);
    try {
      await api('POST', `/v1/vms/${enc(vm.name)}/${action}?async=true`, {});
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy('');
    }
  };
  const remove = async (): Promise<void> => {
    if (!(await confirmAction(`Delete ${vm.name}?`, <p>The VM and the disks in its directory are deleted. This cannot be undone.</p>, 'Delete'))) return;
    try {
      await api('DELETE', `/v1/vms/${enc(vm.name)}`);
      navigate('/');
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <article className="vm-page">
      <header className="vm-head">
        <h1>{vm.name}</h1>
        <StateBadge state={vm.state} />
        <span className="muted small reason">{vm.stateReason}</span>
      </header>
      <div className="toolbar" role="toolbar" aria-label="VM actions">
        {canOperate && ORDER.filter((a) => vm.actions.includes(a)).map((a) => (
          <button key={a} type="button" className={RISKY[a] ? 'danger-outline' : ''} disabled={busy !== ''} onClick={() => void act(a)} data-action={a}>{a}</button>
        ))}
        {canWrite && <Link to={`/vms/${enc(vm.name)}/clone`} className="button">clone</Link>}
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
    case 'summary': return <VmDetails vm={vm} />;
    case 'console': return <SerialConsole vm={vm} />;
    case 'display': return <VncConsole vm={vm} />;
    case 'snapshots': return <Snapshots vm={vm} />;
    case 'backups': return <Backups vm={vm} />;
    case 'migration': return <Migration vm={vm} />;
    case 'activity': return <VmActivity vm={vm} />;
  }
}
