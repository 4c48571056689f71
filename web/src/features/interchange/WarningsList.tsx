/** Every mapping warning with the element, key or spec field it came from (an import's or an export's). Props only. */
import type { MappingWarningView } from './types.js';

export function WarningsList({ warnings, title, empty }: { warnings: readonly MappingWarningView[]; title: string; empty: string }) {
  return (
    <section className="card" data-testid="mapping-warnings" data-count={warnings.length} aria-label={title}>
      <h3>{title} ({warnings.length})</h3>
      {warnings.length === 0 ? <p className="ok" role="status">{empty}</p> : (
        <ul className="warnings">
          {warnings.map((w, i) => (
            <li key={i} data-source={w.source}><code className="small">{w.source}</code>: {w.message}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
