/**
 * A line graph of a history: fixed-height SVG, one line per series, a legend
 * that says what each line means, and a readout of the values at the time
 * under the pointer (or the arrow keys, when the graph has focus; the latest
 * values otherwise). No chart library.
 */
import { useId, useState, type KeyboardEvent, type PointerEvent } from 'react';

export interface Series {
  label: string;
  /** What the figure means, shown under the legend. */
  meaning?: string;
  values: ReadonlyArray<number | null>;
  /** Shown instead of — when this series has no value at the time shown (e.g. "guest did not report"). */
  missing?: string;
  /** Which colour (CSS class `ser-N`). */
  tone: 1 | 2 | 3;
}

const W = 600;
const H = 140;
const PAD = 4;

export function HistoryGraph({ title, t, series, format, max, id }: { title: string; t: readonly number[]; series: Series[]; format: (n: number) => string; max?: number; id: string }) {
  const [at, setAt] = useState<number | null>(null);
  const titleId = useId();
  const n = t.length;
  const top = Math.max(max ?? 0, ...series.flatMap((s) => s.values.filter((v): v is number => v != null)), 1e-9);
  const x = (i: number): number => (n <= 1 ? W : PAD + (i / (n - 1)) * (W - 2 * PAD));
  const y = (v: number): number => H - PAD - (v / top) * (H - 2 * PAD);
  const lastWithData = (() => {
    for (let i = n - 1; i >= 0; i--) if (series.some((s) => s.values[i] != null)) return i;
    return -1;
  })();
  const shown = at ?? lastWithData;
  // A series' `missing` text only where another series has a figure (the VM ran); a gap stays —.
  const ran = shown >= 0 && series.some((s) => s.values[shown] != null);
  const miss = (s: Series): string | undefined => (ran ? s.missing : undefined);

  const move = (e: PointerEvent<SVGSVGElement>): void => {
    const r = e.currentTarget.getBoundingClientRect();
    if (n === 0 || r.width === 0) return;
    const f = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
    setAt(Math.round(f * (n - 1)));
  };
  const key = (e: KeyboardEvent<SVGSVGElement>): void => {
    if (n === 0) return;
    const cur = at ?? lastWithData;
    if (e.key === 'ArrowLeft') setAt(Math.max(0, cur - 1));
    else if (e.key === 'ArrowRight') setAt(Math.min(n - 1, cur + 1));
    else if (e.key === 'Home') setAt(0);
    else if (e.key === 'End') setAt(n - 1);
    else return;
    e.preventDefault();
  };
  const path = (vals: ReadonlyArray<number | null>): string => {
    let d = '';
    let pen = false;
    vals.forEach((v, i) => {
      if (v == null) { pen = false; return; }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    return d;
  };
  const stamp = shown >= 0 ? new Date(t[shown]!).toLocaleTimeString(undefined, { hour12: false }) : '';
  return (
    <figure className="graph" data-graph={id} aria-labelledby={titleId}>
      <figcaption id={titleId} className="graph-title">{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" className="graph-svg" tabIndex={0} role="img"
        aria-label={`${title}: ${shown >= 0 ? series.map((s) => `${s.label} ${fmt(s.values[shown], format, miss(s))}`).join(', ') : 'no data'}. Arrow keys move through time.`}
        onPointerMove={move} onPointerLeave={() => setAt(null)} onKeyDown={key} onBlur={() => setAt(null)}>
        <line x1="0" x2={W} y1={H - PAD} y2={H - PAD} className="graph-axis" />
        <line x1="0" x2={W} y1={PAD} y2={PAD} className="graph-topline" />
        {series.map((s) => <path key={s.label} d={path(s.values)} className={`graph-line ser-${s.tone}`} vectorEffect="non-scaling-stroke" />)}
        {at != null && <line x1={x(at)} x2={x(at)} y1="0" y2={H} className="graph-cursor" vectorEffect="non-scaling-stroke" />}
      </svg>
      <div className="graph-scale small muted"><span>max {format(top)}</span></div>
      <dl className="graph-readout" data-testid="graph-readout">
        {series.map((s) => (
          <div key={s.label} className="graph-value">
            <dt><span className={`swatch ser-${s.tone}`} aria-hidden="true" />{s.label}</dt>
            <dd className="num" data-series={s.label}>{shown >= 0 ? fmt(s.values[shown], format, miss(s)) : '—'}</dd>
            {s.meaning && <dd className="small muted">{s.meaning}</dd>}
          </div>
        ))}
        <div className="graph-value"><dt>at</dt><dd className="num small">{stamp || '—'}</dd></div>
      </dl>
    </figure>
  );
}

const fmt = (v: number | null | undefined, format: (n: number) => string, missing = '—'): string => (v == null ? missing : format(v));
