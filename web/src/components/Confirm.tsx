/** A modal question for actions that may lose data; Escape or Cancel says no, focus starts on Cancel. */
import { useEffect, useRef, useState, type ReactNode } from 'react';

interface Ask { title: string; body: ReactNode; confirm: string; resolve: (ok: boolean) => void }
let show: ((a: Ask | null) => void) | null = null;

export function confirmAction(title: string, body: ReactNode, confirm = 'Confirm'): Promise<boolean> {
  return new Promise((resolve) => (show ? show({ title, body, confirm, resolve }) : resolve(window.confirm(title))));
}

export function ConfirmHost() {
  const [ask, setAsk] = useState<Ask | null>(null);
  const dlg = useRef<HTMLDialogElement>(null);
  const cancelBtn = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    show = setAsk;
    return () => { show = null; };
  }, []);
  useEffect(() => {
    const d = dlg.current;
    if (!d) return;
    if (ask && !d.open) {
      d.showModal();
      cancelBtn.current?.focus();
    } else if (!ask && d.open) d.close();
  }, [ask]);
  const answer = (ok: boolean): void => {
    ask?.resolve(ok);
    setAsk(null);
  };
  return (
    <dialog ref={dlg} className="confirm" onCancel={(e) => { e.preventDefault(); answer(false); }} aria-labelledby="confirm-title">
      {ask && (
        <form method="dialog" onSubmit={(e) => { e.preventDefault(); answer(true); }}>
          <h2 id="confirm-title">{ask.title}</h2>
          <div className="confirm-body">{ask.body}</div>
          <div className="row end">
            <button type="button" ref={cancelBtn} onClick={() => answer(false)}>Cancel</button>
            <button type="submit" className="danger" data-testid="confirm-yes">{ask.confirm}</button>
          </div>
        </form>
      )}
    </dialog>
  );
}
