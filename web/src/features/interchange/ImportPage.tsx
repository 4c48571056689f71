/**
 * /import: a VM from another hypervisor's file the daemon can read (OVA, OVF,
 * .vmx, .vbox, Hyper-V, libvirt XML, Proxmox .conf, XenServer .xva), given
 * as a path on the daemon's host or picked here and uploaded
 * (`POST /v1/import/upload`, the file streamed as the body with its progress
 * in bytes and a Cancel; the path it answers fills the path field). *Check* runs the dry run
 * (`POST /v1/imports` with dryRun) and shows the mapped spec and every
 * warning with the element it came from; only then does *Import* appear,
 * for exactly the inputs checked. The import runs as an operation whose
 * progress arrives as events; its end links to the new VM. Admins only
 * (storage:write: the daemon reads a host path the request names).
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ApiError, enc, errorText } from '../../api/client.js';
import { useCan, useStore } from '../../api/store.js';
import type { OperationView, PoolView } from '../../api/types.js';
import { Link } from '../../components/Link.js';
import { MappingView } from './MappingView.js';
import { OpProgress, useOperation } from './OpProgress.js';
import type { FileImportView, MappingWarningView } from './types.js';
import { uploadFile } from './upload.js';
import { UploadProgress } from './UploadProgress.js';
import { WarningsList } from './WarningsList.js';

interface Inputs { path: string; name: string; pool: string; strict: boolean; virtio: boolean }
const EMPTY: Inputs = { path: '', name: '', pool: '', strict: false, virtio: false };
const bodyOf = (i: Inputs, dryRun: boolean): Record<string, unknown> => ({
  path: i.path.trim(), ...(i.name.trim() ? { name: i.name.trim() } : {}), ...(i.pool ? { pool: i.pool } : {}),
  ...(i.strict ? { strict: true } : {}), ...(i.virtio ? { virtio: true } : {}), ...(dryRun ? { dryRun: true } : {}),
});

export default function ImportPage() {
  const may = useCan('storage:write');
  const role = useStore((s) => s.me?.role ?? '');
  const [inputs, setInputs] = useState<Inputs>(EMPTY);
  const [checked, setChecked] = useState<{ for: string; view: FileImportView } | null>(null);
  const [refused, setRefused] = useState<{ text: string; warnings: MappingWarningView[] } | null>(null);
  const [busy, setBusy] = useState(false);
  const [started, setStarted] = useState<OperationView | null>(null);
  const [done, setDone] = useState<FileImportView | null>(null);
  const [pools, setPools] = useState<PoolView[]>([]);
  const op = useOperation(started);
  const key = JSON.stringify(bodyOf(inputs, false));
  const current = checked !== null && checked.for === key;
  // Import once per check; a failed or cancelled import may be tried again.
  const mayImport = current && (op === null || op.status === 'failed' || op.status === 'cancelled');

  useEffect(() => { if (may) api<PoolView[]>('GET', '/v1/pools').then(setPools, () => setPools([])); }, [may]);

  const set = (patch: Partial<Inputs>): void => setInputs((i) => ({ ...i, ...patch }));
  const [uploaded, setUploaded] = useState<{ file: string; bytes: number } | 'uploading' | null>(null);
  const [sending, setSending] = useState<{ sent: number; total: number; name: string } | null>(null);
  const cancelUpload = useRef<AbortController | null>(null);
  // The picked file goes to the daemon as it is, its progress shown; the path it answers is what Check and Import then read.
  const upload = async (f: File | undefined): Promise<void> => {
    if (!f) return;
    setBusy(true);
    setRefused(null);
    setChecked(null);
    setUploaded('uploading');
    setSending({ sent: 0, total: f.size, name: f.name });
    const stop = new AbortController();
    cancelUpload.current = stop;
    try {
      const data = await uploadFile(f, { signal: stop.signal, onProgress: (sent, total) => setSending({ sent, total, name: f.name }) });
      set({ path: data.path });
      setUploaded({ file: data.file, bytes: data.bytes });
    } catch (err) {
      setUploaded(null);
      setRefused({ text: err instanceof ApiError ? `${err.code}: ${errorText(err)}` : errorText(err), warnings: [] });
    } finally {
      cancelUpload.current = null;
      setSending(null);
      setBusy(false);
    }
  };
  const check = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setRefused(null);
    setChecked(null);
    try {
      setChecked({ for: key, view: await api<FileImportView>('POST', '/v1/imports', bodyOf(inputs, true)) });
    } catch (err) {
      // INTERCHANGE_LOSSY (strict) names each warning in its details: show them as the list they are.
      const warnings = err instanceof ApiError ? err.fields.map((f) => ({ source: f.field, message: f.message })) : [];
      setRefused({ text: err instanceof ApiError ? `${err.code}: ${errorText(err)}` : errorText(err), warnings });
    } finally {
      setBusy(false);
    }
  };
  const run = async (): Promise<void> => {
    setBusy(true);
    setRefused(null);
    setDone(null);
    try {
      setStarted(await api<OperationView>('POST', '/v1/imports?async=true', bodyOf(inputs, false)));
    } catch (err) {
      setRefused({ text: err instanceof ApiError ? `${err.code}: ${errorText(err)}` : errorText(err), warnings: [] });
      setBusy(false);
    }
  };
  const onEnd = useCallback((o: OperationView): void => {
    setBusy(false);
    if (o.status !== 'succeeded') return;
    if (o.result) setDone(o.result as FileImportView);
    else void api<OperationView>('GET', `/v1/operations/${enc(o.id)}`).then((x) => setDone(x.result as FileImportView), () => undefined);
  }, []);

  if (!may) {
    return (
      <div className="card" data-testid="import-not-allowed">
        <h1>Import a VM</h1>
        <p>Importing reads a file on the daemon&apos;s host and writes disks, so it needs the <code>storage:write</code> permission, which only the <b>admin</b> role has. {role ? <>You are logged in as <b>{role}</b>.</> : null} Ask an admin, or use <code>polyvisor import FILE</code> with an admin token.</p>
      </div>
    );
  }
  return (
    <div className="import-page">
      <h1>Import a VM</h1>
      <p className="muted">From another hypervisor&apos;s file on the daemon&apos;s host: an OVA or OVF (VMware, VirtualBox, ovftool), a VMware <code>.vmx</code>, a VirtualBox <code>.vbox</code>, a Hyper-V export (<code>.xml</code>) or <code>New-VM</code> script (<code>.ps1</code>), libvirt domain XML, a Proxmox VE <code>.conf</code>, a XenServer/XCP-ng <code>.xva</code> — or upload one from this computer. A descriptor&apos;s disks must sit beside it. <b>Check</b> shows what the VM would get and what does not carry over; nothing is created until <b>Import</b>.</p>
      <form className="card" aria-label="Import a file" onSubmit={(e) => void check(e)}>
        <div className="row wrap">
          <label>File on the daemon&apos;s host <input id="import-path" required value={inputs.path} onChange={(e) => set({ path: e.target.value })} placeholder="/srv/images/appliance.ova" size={48} spellCheck={false} /></label>
          <label>or upload one <input id="import-upload" type="file" accept=".ova,.xva,.gz,.ovf,.vmx,.vbox,.xml,.conf,.ps1" disabled={busy} onChange={(e) => void upload(e.target.files?.[0])} /></label>
          <label>Name <input id="import-name" value={inputs.name} onChange={(e) => set({ name: e.target.value })} placeholder="the source's" /></label>
          <label>Pool <select id="import-pool" value={inputs.pool} onChange={(e) => set({ pool: e.target.value })}>
            <option value="">the VM&apos;s own folder</option>
            {pools.map((p) => <option key={p.name} value={p.name}>{p.name}</option>)}
          </select></label>
        </div>
        {sending && <UploadProgress {...sending} onCancel={() => cancelUpload.current?.abort()} />}
        {uploaded !== null && uploaded !== 'uploading' && <p className="ok small" role="status" data-testid="import-uploaded">Uploaded {uploaded.file} ({uploaded.bytes} bytes): the daemon keeps it until the import (or a day). An OVA or XVA carries its disks; a descriptor alone shows its disks as missing.</p>}
        <p className="muted small">The daemon keeps an imported VM&apos;s disks in the VM&apos;s own folder for now; a pool given here is passed on (the API reserves it).</p>
        <div className="row wrap">
          <label className="check"><input id="import-strict" type="checkbox" checked={inputs.strict} onChange={(e) => set({ strict: e.target.checked })} /> strict: refuse if anything does not map</label>
          <label className="check"><input id="import-virtio" type="checkbox" checked={inputs.virtio} onChange={(e) => set({ virtio: e.target.checked })} /> virtio: switch disks, NICs and video to virtio</label>
        </div>
        <div className="row">
          <button type="submit" disabled={busy || !inputs.path.trim()}>Check</button>
          {mayImport && <button type="button" className="primary" disabled={busy} onClick={() => void run()}>Import</button>}
          {checked && !current && op === null && <span className="muted small" role="status">The inputs changed since the check: check again.</span>}
        </div>
      </form>
      {refused && (
        <div className="card" data-testid="import-refused">
          <p className="error" role="alert">{refused.text}</p>
          {refused.warnings.length > 0 && <WarningsList warnings={refused.warnings} title="Refused with strict: what does not map" empty="" />}
        </div>
      )}
      {op && (
        <div className="card" data-testid="import-run">
          <h2>Importing {String(bodyOf(inputs, false)['name'] ?? checked?.view.spec['name'] ?? '')}</h2>
          <OpProgress key={op.id} op={op} label="import" onEnd={onEnd} />
          {done?.vm && <p className="ok" role="status" data-testid="import-done">Created <Link to={`/vms/${enc(done.vm.name)}`}>{done.vm.name}</Link> ({done.vm.state}).</p>}
        </div>
      )}
      {checked && (
        <>
          <MappingView view={checked.view} />
          <WarningsList warnings={checked.view.warnings} title="What does not carry over" empty="Everything maps: no warnings." />
        </>
      )}
    </div>
  );
}
