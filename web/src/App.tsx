/** Shell: login gate, navigation, the live connection, and the page for the current path. */
import { lazy, Suspense, useEffect, useState } from 'react';
import { api, onUnauthorized, token } from './api/client.js';
import { setMe, startLive, stopLive, useStore } from './api/store.js';
import type { WhoamiView } from './api/types.js';
import { ConfirmHost } from './components/Confirm.js';
import { Link } from './components/Link.js';
import { Dashboard } from './pages/Dashboard.js';
import { Login } from './pages/Login.js';
import { match, navigate, usePath } from './router.js';

const VmPage = lazy(() => import('./pages/VmPage.js'));
const CreateVm = lazy(() => import('./pages/CreateVm.js'));
const Storage = lazy(() => import('./pages/Storage.js'));
const Operations = lazy(() => import('./pages/Operations.js'));

export function App() {
  const [me, setLocalMe] = useState<WhoamiView | null>(null);
  const [checking, setChecking] = useState(token.get() !== null);
  const path = usePath();

  const enter = (who: WhoamiView): void => {
    setMe(who);
    setLocalMe(who);
    startLive();
  };
  const leave = (): void => {
    token.clear();
    stopLive();
    setLocalMe(null);
  };
  useEffect(() => onUnauthorized(leave), []);
  useEffect(() => {
    if (!token.get()) return;
    api<WhoamiView>('GET', '/v1/whoami').then(enter, () => token.clear()).finally(() => setChecking(false));
    return () => stopLive();
  }, []);

  if (checking) return null;
  if (!me) return <><Login onIn={enter} /><ConfirmHost /></>;
  return (
    <div className="app">
      <header className="top">
        <Link to="/" className="brand">Polyvisor</Link>
        <nav aria-label="Main">
          <Link to="/">Dashboard</Link>
          {me.permissions.includes('vm:write') && <Link to="/create">Create VM</Link>}
          <Link to="/storage">Storage</Link>
          <Link to="/operations">Operations</Link>
        </nav>
        <LiveBadge />
        <span className="who" title={`token ${me.actor}`}>{me.actor} · {me.role}</span>
        <button type="button" onClick={() => { leave(); navigate('/'); }}>Log out</button>
      </header>
      <main>
        <Suspense fallback={<p className="muted">Loading…</p>}>{page(path)}</Suspense>
      </main>
      <ConfirmHost />
    </div>
  );
}

function page(path: string) {
  let m: Record<string, string> | null;
  if ((m = match('/vms/:name', path))) return <VmPage key={m['name']} name={m['name']!} />;
  if ((m = match('/vms/:name/edit', path))) return <CreateVm key={`e-${m['name']}`} from={m['name']!} mode="edit" />;
  if ((m = match('/vms/:name/clone', path))) return <CreateVm key={`c-${m['name']}`} from={m['name']!} mode="clone" />;
  if (path === '/create') return <CreateVm key="new" mode="create" />;
  if (path === '/storage') return <Storage />;
  if (path === '/operations') return <Operations />;
  return <Dashboard />;
}

function LiveBadge() {
  const live = useStore((s) => s.live);
  return <span className={`live live-${live}`} role="status" aria-live="polite">{live === 'live' ? '● live' : live === 'offline' ? '○ reconnecting' : '○ connecting'}</span>;
}
