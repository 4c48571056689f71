/**
 * Shell: the login gate, then the frame of a fleet manager: header, the
 * resource tree on the left (a menu at phone width), the selected object's
 * page in the middle, the task log along the bottom, toasts and keyboard
 * shortcuts. What fills the tree and the middle comes from the registry
 * (registry.ts), filled by the feature folders (features/).
 */
import { Suspense, useEffect, useState } from 'react';
import { api, onUnauthorized, token } from './api/client.js';
import { setMe, startLive, stopLive, useStore } from './api/store.js';
import type { WhoamiView } from './api/types.js';
import { ConfirmHost } from './components/Confirm.js';
import { Link } from './components/Link.js';
import { ResourceTree } from './components/ResourceTree.js';
import { Shortcuts } from './components/Shortcuts.js';
import { TaskLog } from './components/TaskLog.js';
import { ToastHost } from './components/Toasts.js';
import './features/index.js';
import { Login } from './pages/Login.js';
import { pageFor } from './registry.js';
import { navigate, usePath } from './router.js';

export function App() {
  const [me, setLocalMe] = useState<WhoamiView | null>(null);
  const [checking, setChecking] = useState(token.get() !== null);
  const [menu, setMenu] = useState(false);
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
  const found = pageFor(path);
  const title = found ? found.page.title(found.params) : 'Polyvisor';
  useEffect(() => { document.title = `${title} · Polyvisor`; }, [title]);
  useEffect(() => setMenu(false), [path]);

  if (checking) return null;
  if (!me) return <><Login onIn={enter} /><ConfirmHost /></>;
  return (
    <div className={`layout${menu ? ' menu-open' : ''}`}>
      <a href="#main" className="skip">Skip to the page</a>
      <header className="top">
        <button type="button" className="menu-btn" aria-expanded={menu} aria-controls="resource-tree" onClick={() => setMenu(!menu)}>☰ Resources</button>
        <Link to="/" className="brand">Polyvisor</Link>
        <nav aria-label="Main">
          {me.permissions.includes('vm:write') && <Link to="/create">Create VM</Link>}
        </nav>
        <LiveBadge />
        <button type="button" className="small-btn" aria-label="Keyboard shortcuts" aria-keyshortcuts="?" onClick={() => window.dispatchEvent(new KeyboardEvent('keydown', { key: '?' }))}>?</button>
        <span className="who" title={`token ${me.actor}`}>{me.actor} · {me.role}</span>
        <button type="button" onClick={() => { leave(); navigate('/'); }}>Log out</button>
      </header>
      <ResourceTree onPick={() => setMenu(false)} />
      <main id="main" tabIndex={-1} aria-label={title}>
        <Suspense fallback={<p className="muted">Loading…</p>}>{found?.page.render(found.params)}</Suspense>
      </main>
      <TaskLog />
      <ConfirmHost />
      <ToastHost />
      <Shortcuts ctx={{ page: found?.page.id ?? '', params: found?.params ?? {} }} />
    </div>
  );
}

function LiveBadge() {
  const live = useStore((s) => s.live);
  return <span className={`live live-${live}`} role="status" aria-live="polite">{live === 'live' ? '● live' : live === 'offline' ? '○ reconnecting' : '○ connecting'}</span>;
}
