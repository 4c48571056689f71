/** The snapshot tree of a VM: create, revert (asks first) and delete. */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, enc, errorText } from '../api/client.js';
import { useCan, useContentVersion } from '../api/store.js';
import type { SnapshotList, SnapshotView, VmView } from '../api/types.js';
import { confirmAction } from '../components/Confirm.js';
import { bytes, when } from '../format.js';

export function Snapshots({ vm }: { vm: VmView }) {
  const [list, setList] = useState<SnapshotList | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [ram, setRam] = useState(true);
  const [type, setType] = useState('');
  const allowed = useCan('vm:snapshot');
  const base = `/v1/vms/${enc(vm.name)}/snapshots`;

  const load = useCallback(() => api<SnapshotList>('GET', base).then(setList, (e: unknown) => setError(errorText(e))), [base]);
  const version = useContentVersion(vm.name, 'snapshots');
  useEffect(() => { void load(); }, [load, vm.state, version]);

  const run = async (work: () => Promise<unknown>): Promise<void> => {
    setBusy(true);
    setError('');
    try {
      await work();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
      await load();
    }
  };
  const create = (e: FormEvent): void => {
    e.preventDefault();
    void run(async () => {
      await api('POST', base, { name, ...(description ? { description } : {}), ram, ...(type ? { type } : {}) });
      setName('');
      setDescription('');
    });
  };
  const revert = async (s: SnapshotView): Promise<void> => {
    if (!(await confirmAction(`Revert ${vm.name} to ${s.name}?`, <p>Everything the disks{s.kind === 'ram' ? ' and RAM' : ''} got since {s.name} was taken is lost, unless another snapshot holds it.</p>, 'Revert'))) return;
    await run(() => api('POST', `${base}/${enc(s.name)}/revert`));
  };
  const remove = async (s: SnapshotView): Promise<void> => {
    if (!(await confirmAction(`Delete snapshot ${s.name}?`, <p>Its children stay revertable; {s.name} itself can no longer be reverted to.</p>, 'Delete'))) return;
    await run(() => api('DELETE', `${base}/${enc(s.name)}`));
  };

  const children = new Map<string | null, SnapshotView[]>();
  for (const s of list?.snapshots ?? []) children.set(s.parent, [...(children.get(s.parent) ?? []), s]);
  const branch = (parent: string | null, level: number) => {
    const kids = children.get(parent) ?? [];
    if (!kids.length) return null;
    return (
      <ul role={level === 1 ? 'tree' : 'group'} aria-label={level === 1 ? 'Snapshots' : undefined} className="tree">
        {kids.map((s) => (
          <li key={s.name} role="treeitem" aria-level={level} aria-expanded={children.has(s.name) ? true : undefined} data-snapshot={s.name} aria-selected={false}>
            <div className={s.current ? 'node current' : 'node'}>
              <b>{s.name}</b>
              {s.current && <span className="tag">you are here</span>}
              <span className="muted small">{s.kind}{s.type ? ` · ${s.type}` : ''}{s.vmStateBytes ? ` · RAM ${bytes(s.vmStateBytes)}` : ''} · {s.consistency} · {when(s.createdAt)}</span>
              {s.deleting && <span className="tag warn">delete unfinished: delete again</span>}
              {s.description && <span className="small">{s.description}</span>}
              {allowed && <span className="node-actions">
                <button type="button" disabled={busy} onClick={() => void revert(s)}>revert</button>
                <button type="button" disabled={busy} className="danger-outline" onClick={() => void remove(s)}>delete</button>
              </span>}
            </div>
            {branch(s.name, level + 1)}
          </li>
        ))}
      </ul>
    );
  };

  return (
    <div className="card">
      <h2>Snapshots</h2>
      {allowed && (
        <form className="row wrap" onSubmit={create} aria-label="Take a snapshot">
          <label>Name <input name="snapshot-name" required pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}" value={name} onChange={(e) => setName(e.target.value)} /></label>
          <label>Description <input name="snapshot-description" value={description} onChange={(e) => setDescription(e.target.value)} /></label>
          <label className="check"><input type="checkbox" checked={ram} onChange={(e) => setRam(e.target.checked)} /> with RAM (running VMs)</label>
          <label>Kind <select name="snapshot-type" value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">(default: internal)</option><option value="internal">internal (inside the qcow2)</option><option value="external">external (overlay files)</option>
          </select></label>
          <button type="submit" className="primary" disabled={busy}>{busy ? 'Working…' : 'Take snapshot'}</button>
        </form>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      {list && list.snapshots.length === 0 ? <p className="muted">No snapshots yet.</p> : <div data-testid="snapshot-tree">{branch(null, 1)}</div>}
    </div>
  );
}
