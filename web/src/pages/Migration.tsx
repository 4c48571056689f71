/**
 * Live migration with a progress bar: `POST …/migrate?async=true` answers at
 * once with an operation; its progress and detail (phase, bytes sent and
 * left) arrive as `operation` events on the event stream, and so does its end.
 */
import { useState, type FormEvent } from 'react';
import { api, enc, errorText } from '../api/client.js';
import { useCan, useStore } from '../api/store.js';
import type { MigrationResultView, OperationView, VmView } from '../api/types.js';
import { bytes } from '../format.js';

export function Migration({ vm }: { vm: VmView }) {
  const [opId, setOpId] = useState<string | null>(null);
  const op = useStore((s) => (opId ? s.ops.get(opId) : undefined));
  const [error, setError] = useState('');
  const [downtimeMs, setDowntime] = useState('');
  const [autoConverge, setAutoConverge] = useState(false);
  const allowed = useCan('vm:migrate');
  const running = opId !== null && (!op || op.status === 'running');

  const start = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setError('');
    try {
      const o = await api<OperationView>('POST', `/v1/vms/${enc(vm.name)}/migrate?async=true`, {
        ...(downtimeMs ? { downtimeMs: Number(downtimeMs) } : {}), ...(autoConverge ? { autoConverge: true } : {}),
      });
      setOpId(o.id);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const cancel = (): void => {
    if (opId) void api('DELETE', `/v1/operations/${enc(opId)}`).catch((e: unknown) => setError(errorText(e)));
  };

  if (!allowed) return <p className="muted">Your role may not migrate VMs.</p>;
  if (vm.state !== 'running' && vm.state !== 'paused' && !opId) return <p className="muted">Live migration moves a running VM to a new QEMU process without stopping it. {vm.name} is {vm.state}.</p>;
  const d = (op?.detail ?? {}) as { phase?: string; transferredBytes?: number; remainingBytes?: number; iteration?: number };
  const result = op?.status === 'succeeded' ? op.result as MigrationResultView | undefined : undefined;
  return (
    <div className="card">
      <h2>Live migration</h2>
      <form className="row wrap" onSubmit={(e) => void start(e)}>
        <label>Max downtime (ms) <input inputMode="numeric" pattern="[0-9]*" value={downtimeMs} onChange={(e) => setDowntime(e.target.value)} placeholder="policy" /></label>
        <label className="check"><input type="checkbox" checked={autoConverge} onChange={(e) => setAutoConverge(e.target.checked)} /> auto-converge</label>
        <button type="submit" className="primary" disabled={running}>{running ? 'Migrating…' : 'Migrate'}</button>
        {running && <button type="button" className="danger-outline" onClick={cancel}>Cancel</button>}
      </form>
      {opId && (
        <div className="progress-line">
          <progress max={1} value={op?.progress ?? 0} aria-label="migration progress" />
          <span className="num small">{Math.round((op?.progress ?? 0) * 100)}% · {d.phase ?? op?.status ?? 'preparing'}
            {d.transferredBytes !== undefined && ` · ${bytes(d.transferredBytes)} sent, ${bytes(d.remainingBytes ?? 0)} left`}
            {d.iteration !== undefined && ` · pass ${d.iteration}`}</span>
        </div>
      )}
      {result && <p className="ok" role="status">Migrated to QEMU PID {result.targetPid} in {(result.wallMs / 1000).toFixed(2)} s, guest paused {result.stats.downtimeMs} ms. {result.explanation}</p>}
      {op?.error && <p className="error" role="alert">{op.status === 'cancelled' ? 'Cancelled: ' : ''}{op.error.message}{op.error.hint ? ` — ${op.error.hint}` : ''}</p>}
      {error && <p className="error" role="alert">{error}</p>}
    </div>
  );
}
