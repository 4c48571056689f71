/**
 * Windowing for long lists in the resource tree: with hundreds of VMs under
 * a host, only the rows inside the tree pane's visible height (plus a margin)
 * are in the document; spacers above and below keep the scroll height, so the
 * scrollbar and the position stay true. Rows have one height (measured from
 * a rendered row). The first row is always rendered, so "Enter opens the
 * first VM found" and Tab into the list start where the list starts.
 * Nothing is measured while React renders: a forced layout of the page (with
 * a VM table of 1,000 rows beside the tree) cost more than the rows saved;
 * measuring waits for the frame after the first paint, and for scrolls.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';

/** Lists at least this long are windowed; shorter ones render whole. */
export const WINDOW_FROM = 80;
/** Rows rendered beyond each edge of the visible part. */
const MARGIN_ROWS = 20;

export interface Range { start: number; end: number }

/** The rows [start, end) that cover the visible part of a list whose top is `top` px below the pane's visible top. */
export function visibleRange(count: number, rowHeight: number, top: number, paneHeight: number, margin = MARGIN_ROWS): Range {
  const h = Math.max(1, rowHeight);
  const start = Math.max(0, Math.floor(-top / h) - margin);
  const end = Math.min(count, Math.max(start, Math.ceil((paneHeight - top) / h) + margin));
  return { start, end };
}

export function WindowedList<T>({ items, render, className }: { items: readonly T[]; render: (item: T) => ReactNode; className?: string }) {
  const ref = useRef<HTMLUListElement>(null);
  const [rowH, setRowH] = useState(26);
  const [range, setRange] = useState<Range>(() => ({ start: 0, end: Math.min(items.length, 60) }));
  const count = items.length;

  useEffect(() => {
    const ul = ref.current;
    const pane = ul?.closest<HTMLElement>('.tree-pane');
    if (!ul || !pane) return;
    let frame = 0;
    const update = (): void => {
      frame = 0;
      const row = ul.querySelector<HTMLElement>(':scope > li.tn');
      const h = row?.getBoundingClientRect().height ?? 0; // fractional: 150 rows of 27.94 px are not 150 of 28
      if (h > 0 && Math.abs(h - rowH) > 0.01) { setRowH(h); return; } // the effect runs again with it
      const top = ul.getBoundingClientRect().top - pane.getBoundingClientRect().top;
      const next = visibleRange(count, rowH, top, pane.clientHeight);
      setRange((r) => (r.start === next.start && r.end === next.end ? r : next));
    };
    const later = (): void => { if (!frame) frame = requestAnimationFrame(update); };
    frame = requestAnimationFrame(() => { frame = requestAnimationFrame(update); }); // after the first paint
    pane.addEventListener('scroll', later, { passive: true });
    window.addEventListener('resize', later);
    return () => {
      pane.removeEventListener('scroll', later);
      window.removeEventListener('resize', later);
      if (frame) cancelAnimationFrame(frame);
    };
  }, [count, rowH]);

  const start = Math.min(range.start, count);
  const end = Math.min(Math.max(range.end, start), count);
  const from = Math.max(start, 1); // row 0 is always there
  return (
    <ul ref={ref} className={className} data-windowed={count} data-rendered={(count > 0 ? 1 : 0) + Math.max(0, end - from)}>
      {count > 0 && render(items[0]!)}
      {from > 1 && <li aria-hidden="true" className="tn-spacer" style={{ height: (from - 1) * rowH }} />}
      {items.slice(from, end).map(render)}
      {end < count && <li aria-hidden="true" className="tn-spacer" style={{ height: (count - end) * rowH }} />}
    </ul>
  );
}
