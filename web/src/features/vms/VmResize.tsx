/**
 * The VM page's resize control (issue 22): vCPUs and memory — hot-plugged on a
 * running VM, within cpu.max / memory.max — and the balloon target of a
 * running VM, each set on its own through POST /v1/vms/NAME/resize (what
 * `polyvisor vm resize` sends). Disabled with the reason for roles without
 * vm:operate and where the VM cannot take it.
 */
import { useEffect, useState } from 'react';
import { api, enc, errorText } from '../../api/client.js';
import { refreshVm, useCan } from '../../api/store.js';
import type { ResizeBody, ResizeView, VmView } from '../../api/types.js';
import { resizeLimits, type ResizeField } from './resize-limits.js';

type Key = keyof ResizeBody;

const LABEL: Record<Key, string> = { cpus: 'vCPUs', memoryMiB: 'Memory (MiB)', balloonMiB: 'Balloon target (MiB)' };

function Field(p: { k: Key; f: ResizeField; value: number; busy: boolean; onChange: (v: number) => void; onSet: () => void }) {
  const off = p.f.why !== '';
  return (
    <div className="row" data-resize={p.k}>
      <label>{LABEL[p.k]}{' '}
        <input type="number" aria-label={LABEL[p.k]} value={p.value} min={p.f.min} max={p.f.max} step={p.f.step} disabled={off || p.busy} title={p.f.why || undefined} onChange={(e) => p.onChange(Number(e.target.value))} />
      </label>
      <span className="small muted">{p.k === 'balloonMiB' ? `up to ${p.f.max}` : `now ${p.f.now}, up to ${p.f.max}`}</span>
      <button type="button" disabled={off || p.busy || (p.k !== 'balloonMiB' && p.value === p.f.now)} title={p.f.why || undefined} onClick={p.onSet}>Set</button>
      {off && <span className="small muted why">{p.f.why}</span>}
    </div>
  );
}

export function VmResize({ vm }: { vm: VmView }) {
  return <ResizeControl vm={vm} canOperate={useCan('vm:operate')} />;
}

export function ResizeControl({ vm, canOperate }: { vm: VmView; canOperate: boolean }) {
  const lim = resizeLimits(vm, canOperate);
  const [values, setValues] = useState<Record<Key, number>>({ cpus: lim.cpus.now, memoryMiB: lim.memoryMiB.now, balloonMiB: lim.balloonMiB.now });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState<ResizeView | null>(null);
  useEffect(() => { setValues((v) => ({ ...v, cpus: lim.cpus.now, memoryMiB: lim.memoryMiB.now })); }, [lim.cpus.now, lim.memoryMiB.now]);

  const set = async (k: Key): Promise<void> => {
    setBusy(true);
    setError('');
    try {
      setDone(await api<ResizeView>('POST', `/v1/vms/${enc(vm.name)}/resize`, { [k]: values[k] }));
      await refreshVm(vm.name);
    } catch (e) {
      setError(errorText(e));
    }
    setBusy(false);
  };

  return (
    <div className="card" data-testid="vm-resize">
      <h2>Resize</h2>
      <p className="small muted">{lim.live ? 'Hot-plugged into the running guest: vCPUs and memory go up to cpu.max / memory.max (memory in 128 MiB blocks, not down while it runs); the balloon sets what the guest may keep.' : 'The VM is not running: its spec changes and the next start has it.'}</p>
      {(['cpus', 'memoryMiB', 'balloonMiB'] as const).map((k) => (
        <Field key={k} k={k} f={lim[k]} value={values[k]} busy={busy} onChange={(v) => setValues((o) => ({ ...o, [k]: v }))} onSet={() => void set(k)} />
      ))}
      {error && <p className="error" role="alert">{error}</p>}
      {done && <p className="small" data-testid="resize-done">{`${done.live ? 'Live' : 'Spec'}: ${done.cpus} of ${done.maxCpus} vCPUs, ${Math.round(done.memoryMiB)} of ${done.maxMemoryMiB} MiB${done.balloonMiB !== null ? `, balloon ${done.balloonMiB} MiB` : ''}${done.changed.length ? ` (changed: ${done.changed.join(', ')})` : ''}`}</p>}
    </div>
  );
}
