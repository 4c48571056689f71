/** Backups of a VM: create (incremental when possible, or full), verify, restore (asks first). */
import { useCallback, useEffect, useState } from 'react';
import { api, enc, errorText } from '../api/client.js';
import { useCan, useContentVersion } from '../api/store.js';
import type { BackupVerify, BackupView, VmView } from '../api/types.js';
import { confirmAction } from '../components/Confirm.js';
import { when } from '../format.js';

export function Backups({ vm }: { vm: VmView }) {
  const [list, setList] = useState<BackupView[] | null>(null);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState('');
  const allowed = useCan('vm:backup');
  const base = `/v1/vms/${enc(vm.name)}/backups`;
  const load = useCallback(() => api<BackupView[]>('GET', base).then(setList, (e: unknown) => setError(errorText(e))), [base]);
  const version = useContentVersion(vm.name, 'backups');
  useEffect(() => { void load(); }, [load, version]);

  const run = async (what: string, work: () => Promise<string>): Promise<void> => {
    setBusy(what);
    setError('');
    setNote('');
    try {
      setNote(await work());
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy('');
      await load();
    }
  };
  const create = (full: boolean) => run('create', async () => {
    const b = await api<BackupView>('POST', base, full ? { full: true } : {});
    return `Backup ${b.id} taken (${b.kind}, ${b.mode}, ${(b.durationMs / 1000).toFixed(1)} s).`;
  });
  const verify = (b: BackupView) => run(`verify-${b.id}`, async () => {
    const r = await api<BackupVerify>('POST', `${base}/${enc(b.id)}/verify`);
    return r.ok ? `Backup ${b.id} verified: ${r.checked.length} image(s), checksums and qemu-img check clean.` : `Backup ${b.id} failed verification: ${r.problems.join('; ')}`;
  });
  const restore = async (b: BackupView): Promise<void> => {
    if (!(await confirmAction(`Restore ${vm.name} from ${b.id}?`, <p>The VM&apos;s disks are replaced by the backup&apos;s; what they got since {when(b.createdAt)} is lost. The VM must be stopped.</p>, 'Restore'))) return;
    await run(`restore-${b.id}`, async () => {
      await api('POST', `${base}/${enc(b.id)}/restore`, { confirm: true });
      return `Restored ${vm.name} from ${b.id}.`;
    });
  };

  return (
    <div className="card">
      <h2>Backups</h2>
      {allowed && <div className="row">
        <button type="button" className="primary" disabled={busy !== ''} onClick={() => void create(false)}>{busy === 'create' ? 'Backing up…' : 'Back up now'}</button>
        <button type="button" disabled={busy !== ''} onClick={() => void create(true)}>Full backup</button>
      </div>}
      {note && <p className="ok" role="status">{note}</p>}
      {error && <p className="error" role="alert">{error}</p>}
      {list && (list.length === 0 ? <p className="muted">No backups yet.</p> : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Backups table"><table>
          <thead><tr><th>ID</th><th>Kind</th><th>Mode</th><th>Taken</th><th>Disks</th>{allowed && <th />}</tr></thead>
          <tbody>{list.map((b) => (
            <tr key={b.id}>
              <td className="mono">{b.id}</td><td>{b.kind}{b.parent ? ` (on ${b.parent})` : ''}</td><td>{b.mode}</td><td>{when(b.createdAt)}</td>
              <td>{b.disks.map((d) => d.disk).join(', ')}</td>
              {allowed && <td className="row">
                <button type="button" disabled={busy !== ''} onClick={() => void verify(b)}>verify</button>
                <button type="button" disabled={busy !== ''} className="danger-outline" onClick={() => void restore(b)}>restore</button>
              </td>}
            </tr>
          ))}</tbody>
        </table></div>
      ))}
    </div>
  );
}
