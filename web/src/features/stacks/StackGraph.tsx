/**
 * A stack's dependency graph as its levels: one column per level in apply
 * order, each member a box naming what it depends on (the same order
 * `polyvisor stack graph` prints; its DOT is on the API for a drawing).
 */
export interface GraphProps {
  order: readonly (readonly string[])[];
  edges: ReadonlyArray<{ from: string; to: string }>;
  /** A mark per member (its state), when known. */
  marks?: Readonly<Record<string, string>>;
  label: string;
}

export function StackGraph({ order, edges, marks = {}, label }: GraphProps) {
  const deps = (m: string): string[] => edges.filter((e) => e.from === m).map((e) => e.to);
  return (
    <ol className="stack-graph row wrap" aria-label={label} data-testid="stack-graph">
      {order.map((level, i) => (
        <li key={i} className="card stack-level" data-level={i + 1}>
          <h4>Level {i + 1}</h4>
          <ul>
            {level.map((m) => (
              <li key={m} data-member={m} data-depends={deps(m).join(',')}>
                <strong>{m}</strong>{marks[m] ? <span className="muted small"> · {marks[m]}</span> : null}
                {deps(m).length > 0 && <div className="small muted">after {deps(m).join(', ')}</div>}
              </li>
            ))}
          </ul>
        </li>
      ))}
    </ol>
  );
}
