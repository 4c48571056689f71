/** A fixed-size SVG line of the last values: no chart library, no layout change when it updates. */
export function Sparkline({ values, max, label, width = 90, height = 22 }: { values: readonly number[]; max?: number; label: string; width?: number; height?: number }) {
  const top = Math.max(max ?? 0, ...values, 1e-9);
  const n = Math.max(values.length - 1, 1);
  const pts = values.map((v, i) => `${((i / n) * width).toFixed(1)},${(height - 1 - (v / top) * (height - 2)).toFixed(1)}`).join(' ');
  return (
    <svg className="spark" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      {values.length > 1 ? <polyline points={pts} fill="none" stroke="currentColor" strokeWidth="1.5" /> : <line x1="0" x2={width} y1={height - 1} y2={height - 1} stroke="currentColor" strokeOpacity="0.3" />}
    </svg>
  );
}
