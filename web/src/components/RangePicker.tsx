/** The time range of history graphs: 1 hour, 6 hours, 1 day (buttons with aria-pressed). */
import { RANGES, type Range } from '../api/history.js';

const NAMES: Record<Range, string> = { '1h': 'last hour', '6h': 'last 6 hours', '1d': 'last day' };

export function RangePicker({ value, onChange }: { value: Range; onChange: (r: Range) => void }) {
  return (
    <div className="range-picker" role="group" aria-label="Time range">
      {RANGES.map((r) => (
        <button key={r} type="button" className="small-btn" aria-pressed={value === r} title={NAMES[r]} data-range={r} onClick={() => onChange(r)}>{r}</button>
      ))}
    </div>
  );
}
