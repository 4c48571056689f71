export function StateBadge({ state }: { state: string }) {
  return <span className={`state s-${state}`} data-testid="vm-state">{state}</span>;
}
