/**
 * Keyboard shortcuts: `/` focuses the tree's search, `?` shows this help, and
 * every registered action with a key runs on its page. Keys typed into a
 * field, a console or with Ctrl/Alt/Meta are left alone.
 */
import { useEffect, useRef, useState } from 'react';
import { useStore } from '../api/store.js';
import { actionsFor, allActions, type ActionContext } from '../registry.js';

const typing = (t: EventTarget | null): boolean =>
  t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName) || t.closest('.xterm, [data-testid=vnc-display]') !== null);

const FIXED: Array<[string, string]> = [['/', 'search the resource tree (Enter opens the first VM found, Escape clears)'], ['?', 'show these shortcuts'], ['Esc', 'close a dialog; answer "no" to a question']];

export function Shortcuts({ ctx }: { ctx: ActionContext }) {
  const [open, setOpen] = useState(false);
  const dlg = useRef<HTMLDialogElement>(null);
  const perms = useStore((s) => s.me?.permissions ?? []);
  const ctxRef = useRef(ctx);
  ctxRef.current = ctx;

  useEffect(() => {
    const down = (e: KeyboardEvent): void => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || document.querySelector('dialog[open]')) return;
      if (e.key === '/') {
        const s = document.getElementById('tree-search');
        if (s) { e.preventDefault(); s.closest('.layout')?.classList.add('menu-open'); s.focus(); }
        return;
      }
      if (e.key === '?') { e.preventDefault(); setOpen(true); return; }
      const a = actionsFor(ctxRef.current, perms).find((x) => x.key === e.key);
      if (!a || (a.enabled && !a.enabled(ctxRef.current))) return;
      e.preventDefault();
      void a.run(ctxRef.current);
    };
    window.addEventListener('keydown', down);
    return () => window.removeEventListener('keydown', down);
  }, [perms]);

  useEffect(() => {
    const d = dlg.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    else if (!open && d.open) d.close();
  }, [open]);

  const here = actionsFor(ctx, perms).filter((a) => a.key);
  const elsewhere = allActions().filter((a) => a.key && !here.includes(a) && (!a.permission || perms.includes(a.permission)));
  return (
    <dialog ref={dlg} className="confirm help" aria-labelledby="keys-title" onClose={() => setOpen(false)} data-testid="shortcut-help">
      <h2 id="keys-title">Keyboard shortcuts</h2>
      <table className="keys">
        <tbody>
          {FIXED.map(([k, what]) => <tr key={k}><td><kbd>{k}</kbd></td><td>{what}</td></tr>)}
          {here.map((a) => <tr key={a.id}><td><kbd>{a.key}</kbd></td><td>{a.label}{a.enabled && !a.enabled(ctx) ? <span className="small muted"> (not now)</span> : null}</td></tr>)}
          {elsewhere.map((a) => <tr key={a.id}><td><kbd>{a.key}</kbd></td><td>{a.label} <span className="small muted">(on its page)</span></td></tr>)}
        </tbody>
      </table>
      <div className="row end"><button type="button" autoFocus onClick={() => setOpen(false)}>Close</button></div>
    </dialog>
  );
}
