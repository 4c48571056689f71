/** Short notices in a corner ("Start of web1 requested"), each with a link to its task; they leave after 8 s or on Dismiss. */
import { useEffect, useState } from 'react';
import { Link } from './Link.js';

export interface Toast { id: number; text: string; kind: 'info' | 'error'; link?: { to: string; label: string } }

let seq = 0;
let shown: Toast[] = [];
const subs = new Set<(t: Toast[]) => void>();

function publish(next: Toast[]): void {
  shown = next;
  for (const s of subs) s(shown);
}

export function toast(text: string, opts: { kind?: Toast['kind']; link?: Toast['link'] } = {}): void {
  const t: Toast = { id: ++seq, text, kind: opts.kind ?? 'info', ...(opts.link ? { link: opts.link } : {}) };
  publish([...shown.slice(-3), t]);
  setTimeout(() => dismiss(t.id), 8000);
}

function dismiss(id: number): void {
  if (shown.some((t) => t.id === id)) publish(shown.filter((t) => t.id !== id));
}

/** The link to an operation's page, for a toast about it. */
export const taskLink = (opId: string): Toast['link'] => ({ to: `/operations?op=${encodeURIComponent(opId)}`, label: 'view task' });

export function ToastHost() {
  const [list, setList] = useState<Toast[]>(shown);
  useEffect(() => {
    subs.add(setList);
    return () => void subs.delete(setList);
  }, []);
  return (
    <div className="toasts" role="status" aria-live="polite" aria-label="Notifications">
      {list.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`} data-testid="toast">
          <span>{t.text}</span>
          {t.link && <Link to={t.link.to}>{t.link.label}</Link>}
          <button type="button" className="small-btn" aria-label="Dismiss notification" onClick={() => dismiss(t.id)}>×</button>
        </div>
      ))}
    </div>
  );
}
