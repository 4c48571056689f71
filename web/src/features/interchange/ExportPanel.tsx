/**
 * The VM page's export tab: a stopped VM written as another hypervisor's
 * config and disks (`POST /v1/vms/:name/export-config?async=true`) into a new
 * or empty folder on the daemon's host; the format picked from the seven the
 * daemon writes; progress from the operation's events; then the files
 * written (size, SHA-256) and what the format could not hold. Admins only
 * (storage:write: it writes a host path the request names).
 */
import { useCallback, useState, type FormEvent } from 'react';
import { api, ApiError, enc, errorText } from '../../api/client.js';
import { useCan } from '../../api/store.js';
import type { OperationView, VmView } from '../../api/types.js';
import { bytes } from '../../format.js';
import { OpProgress, useOperation } from './OpProgress.js';
import { EXPORT_FORMATS, type ConfigExportView } from './types.js';
import { WarningsList } from './WarningsList.js';

export function ExportPanel({ vm }: { vm: VmView }) {
  const may = useCan('storage:write');
  const [format, setFormat] = useState('ova');
  const [out, setOut] = useState('');
  const [error, setError] = useState('');
  const [started, setStarted] = useState<OperationView | null>(null);
  const [done, setDone] = useState<ConfigExportView | null>(null);
  const op = useOperation(started);
  const running = op !== null && op.status === 'running';
  const atRest = vm.state === 'stopped' || vm.state === 'created';

  const start = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setError('');
    setDone(null);
    try {
      setStarted(await api<OperationView>('POST', `/v1/vms/${enc(vm.name)}/export-config?async=true`, { format, out: out.trim() }));
    } catch (err) {
      setError(err instanceof ApiError ? `${err.code}: ${errorText(err)}` : errorText(err));
    }
  };
  const onEnd = useCallback((o: OperationView): void => {
    if (o.status !== 'succeeded') return;
    if (o.result) setDone(o.result as ConfigExportView);
    else void api<OperationView>('GET', `/v1/operations/${enc(o.id)}`).then((x) => setDone(x.result as ConfigExportView), () => undefined);
  }, []);

  if (!may) return <p className="muted" data-testid="export-not-allowed">Exporting writes files on the daemon&apos;s host, so it needs the <code>storage:write</code> permission (the admin role).</p>;
  const picked = EXPORT_FORMATS.find((f) => f.id === format);
  return (
    <div className="card" data-testid="export-panel">
      <h2>Export to another hypervisor</h2>
      {!atRest && <p className="muted" role="status">{vm.name} is {vm.state}: its disks are copied at rest, so stop it first.</p>}
      <form className="row wrap" aria-label="Export the VM" onSubmit={(e) => void start(e)}>
        <label>Format <select id="export-format" value={format} onChange={(e) => setFormat(e.target.value)}>
          {EXPORT_FORMATS.map((f) => <option key={f.id} value={f.id}>{f.label}</option>)}
        </select></label>
        <label>Folder on the daemon&apos;s host (new or empty) <input id="export-out" required value={out} onChange={(e) => setOut(e.target.value)} placeholder={`/srv/exports/${vm.name}-${format}`} size={40} spellCheck={false} /></label>
        <button type="submit" className="primary" disabled={!atRest || running || !out.trim()}>{running ? 'Exporting…' : 'Export'}</button>
      </form>
      {picked && <p className="muted small" data-testid="export-format-what">{picked.label}: {picked.what}; with a SHA256SUMS file.</p>}
      {error && <p className="error" role="alert">{error}</p>}
      {op && <OpProgress key={op.id} op={op} label="export" onEnd={onEnd} />}
      {done && (
        <>
          <p className="ok" role="status" data-testid="export-done">Wrote {done.files.length} files to <code>{done.out}</code> as {done.format}.</p>
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Files written">
            <table className="table" data-testid="export-files">
              <thead><tr><th>File</th><th>Size</th><th>SHA-256</th></tr></thead>
              <tbody>{done.files.map((f) => (
                <tr key={f.name} data-file={f.name}><td className="mono">{f.name}</td><td className="num">{bytes(f.bytes)}</td><td className="mono small" title={f.sha256}>{f.sha256.slice(0, 16)}…</td></tr>
              ))}</tbody>
            </table>
          </div>
          <WarningsList warnings={done.warnings} title={`What ${done.format} cannot hold`} empty="Nothing was lost." />
        </>
      )}
    </div>
  );
}
