/**
 * Create a VM in steps (`/create?wizard`): name and labels, source, CPU and
 * memory (beside the host's free capacity), disks, network, cloud-init, and a
 * summary that shows the spec as YAML. The daemon validates it: a refused
 * field's message (the same text the CLI prints) is shown on the step that
 * holds the field.
 */
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { stringify } from 'yaml';
import { api, ApiError, enc, errorText } from '../../api/client.js';
import { putVm, useStore } from '../../api/store.js';
import type { ImageView, OperationView, VmView } from '../../api/types.js';
import { taskLink, toast } from '../../components/Toasts.js';
import { bytes } from '../../format.js';
import { navigate } from '../../router.js';

const STEPS = ['Name', 'Source', 'CPU and memory', 'Disks', 'Network', 'Cloud-init', 'Summary'] as const;
/** Which step holds a spec field (by its first path segment), for the API's field messages. */
const STEP_OF: Record<string, number> = { name: 0, description: 0, labels: 0, boot: 1, cpu: 2, memory: 2, disks: 3, networks: 4, cloudInit: 5 };
/** Fields whose message shows under their input; the others on a step are listed at its end, with their path. */
const UNDER_FIELD = new Set(['name', 'description', 'labels', 'boot.kernel', 'boot.initrd', 'boot.cmdline', 'cpu.count', 'memory']);

interface Draft {
  name: string; description: string; labels: string;
  source: 'kernel' | 'empty' | 'image';
  kernel: string; initrd: string; cmdline: string; emptySize: string; image: string;
  cpus: string; memory: string;
  disks: Array<{ name: string; size: string }>;
  network: boolean; model: 'virtio' | 'e1000';
  cloudInit: boolean; hostname: string; keys: string;
  start: boolean;
}

const EMPTY: Draft = { name: '', description: '', labels: '', source: 'kernel', kernel: '', initrd: '', cmdline: 'console=ttyS0', emptySize: '8Gi', image: '', cpus: '1', memory: '512Mi', disks: [], network: true, model: 'virtio', cloudInit: false, hostname: '', keys: '', start: true };

/** The spec the draft describes; empty fields are left out so the daemon's defaults apply. */
export function specOf(d: Draft, images: readonly ImageView[]): Record<string, unknown> {
  const labels = Object.fromEntries(d.labels.split(/\n|,/).map((l) => l.trim()).filter(Boolean).map((l) => [l.split('=')[0]!.trim(), l.slice(l.indexOf('=') + 1).trim()]));
  const disks: Array<Record<string, unknown>> = [];
  const boot: Record<string, unknown> = {};
  if (d.source === 'kernel') Object.assign(boot, { kernel: d.kernel || undefined, initrd: d.initrd || undefined, cmdline: d.cmdline || undefined });
  if (d.source === 'empty') disks.push({ name: 'root', size: d.emptySize });
  if (d.source === 'image') {
    const img = images.find((i) => i.name === d.image);
    disks.push({ name: 'install', path: img?.path ?? '', media: 'cdrom', readOnly: true });
  }
  for (const x of d.disks) disks.push({ name: x.name, size: x.size });
  const spec: Record<string, unknown> = {
    name: d.name,
    ...(d.description ? { description: d.description } : {}),
    ...(Object.keys(labels).length ? { labels } : {}),
    cpu: { count: Number(d.cpus) || d.cpus },
    memory: d.memory,
    ...(Object.values(boot).some((v) => v !== undefined) ? { boot: JSON.parse(JSON.stringify(boot)) as unknown } : {}),
    ...(disks.length ? { disks } : {}),
    networks: d.network ? [{ name: 'net0', type: 'user', model: d.model }] : [],
  };
  if (d.cloudInit) spec['cloudInit'] = { ...(d.hostname ? { hostname: d.hostname } : {}), sshAuthorizedKeys: d.keys.split('\n').map((k) => k.trim()).filter(Boolean) };
  return spec;
}

export default function Wizard() {
  const [d, setD] = useState<Draft>(EMPTY);
  const [step, setStep] = useState(0);
  const [images, setImages] = useState<ImageView[]>([]);
  const [problems, setProblems] = useState<Array<{ field: string; message: string }>>([]);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const host = useStore((s) => s.host);
  const set = (p: Partial<Draft>): void => setD((x) => ({ ...x, ...p }));
  useEffect(() => { api<ImageView[]>('GET', '/v1/images').then(setImages, () => setImages([])); }, []);
  const spec = useMemo(() => specOf(d, images), [d, images]);
  const here = problems.filter((p) => STEP_OF[p.field.split('.')[0]!] === step);
  const msg = (field: string): ReactNode => problems.filter((p) => p.field === field).map((p) => <span key={p.field + p.message} className="field-error" data-field={p.field}>{p.message}</span>);
  const others = here.filter((p) => !UNDER_FIELD.has(p.field));

  const create = async (): Promise<void> => {
    setBusy(true);
    setError('');
    setProblems([]);
    try {
      const vm = await api<VmView>('POST', '/v1/vms', { spec });
      putVm(vm);
      toast(`${vm.name} created`);
      if (d.start) {
        const op = await api<OperationView>('POST', `/v1/vms/${enc(vm.name)}/start?async=true`, {});
        toast(`start of ${vm.name} requested`, op?.id ? { link: taskLink(op.id) } : {});
      }
      navigate(`/vms/${enc(vm.name)}`);
    } catch (err) {
      if (err instanceof ApiError && err.fields.length) {
        setProblems(err.fields);
        setStep(Math.min(...err.fields.map((f) => STEP_OF[f.field.split('.')[0]!] ?? 6)));
      } else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const free = host ? `${bytes(host.memTotal - host.memUsed)} of ${bytes(host.memTotal)} free, ${host.cpus} CPUs` : 'reading…';
  return (
    <section className="wizard" aria-labelledby="wizard-title">
      <h1 id="wizard-title">Create a VM, step by step</h1>
      <ol className="steps" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li key={s}><button type="button" className="step-btn" aria-current={i === step ? 'step' : undefined} onClick={() => setStep(i)} data-step={i}>
            {i + 1}. {s}{problems.some((p) => STEP_OF[p.field.split('.')[0]!] === i) ? ' ⚠' : ''}</button></li>
        ))}
      </ol>
      <form className="card create" onSubmit={(e) => { e.preventDefault(); if (step < STEPS.length - 1) setStep(step + 1); else void create(); }} aria-label={STEPS[step]}>
        <h2>{STEPS[step]}</h2>
        {here.length > 0 && <p className="error" role="alert">The daemon refused this step: see the messages under the fields.</p>}
        {step === 0 && <>
          <div className="field"><label htmlFor="wz-name">Name</label><input id="wz-name" name="name" required value={d.name} onChange={(e) => set({ name: e.target.value })} />{msg('name')}</div>
          <div className="field"><label htmlFor="wz-desc">Description</label><input id="wz-desc" value={d.description} onChange={(e) => set({ description: e.target.value })} />{msg('description')}</div>
          <div className="field"><label htmlFor="wz-labels">Labels (key=value, one a line)</label><textarea id="wz-labels" rows={3} value={d.labels} onChange={(e) => set({ labels: e.target.value })} />{msg('labels')}</div>
        </>}
        {step === 1 && <>
          <fieldset className="group"><legend>Boot from</legend>
            {([['kernel', 'a kernel and initrd on the host (direct boot)'], ['empty', 'an empty disk (install later, e.g. from an ISO)'], ['image', 'an image from the library, as a read-only CD-ROM']] as const).map(([v, l]) => (
              <label key={v} className="check"><input type="radio" name="source" value={v} checked={d.source === v} onChange={() => set({ source: v })} /> {l}</label>
            ))}
          </fieldset>
          {d.source === 'kernel' && <>
            <div className="field"><label htmlFor="wz-kernel">Kernel (host path)</label><input id="wz-kernel" name="kernel" value={d.kernel} onChange={(e) => set({ kernel: e.target.value })} />{msg('boot.kernel')}</div>
            <div className="field"><label htmlFor="wz-initrd">Initrd (host path)</label><input id="wz-initrd" name="initrd" value={d.initrd} onChange={(e) => set({ initrd: e.target.value })} />{msg('boot.initrd')}</div>
            <div className="field"><label htmlFor="wz-cmdline">Kernel command line</label><input id="wz-cmdline" name="cmdline" value={d.cmdline} onChange={(e) => set({ cmdline: e.target.value })} />{msg('boot.cmdline')}</div>
          </>}
          {d.source === 'empty' && <div className="field"><label htmlFor="wz-empty">Disk size</label><input id="wz-empty" value={d.emptySize} onChange={(e) => set({ emptySize: e.target.value })} /></div>}
          {d.source === 'image' && <div className="field"><label htmlFor="wz-image">Image</label>
            <select id="wz-image" value={d.image} onChange={(e) => set({ image: e.target.value })}><option value="">choose…</option>{images.map((i) => <option key={i.name} value={i.name}>{i.name} ({i.format}, {bytes(i.virtualSize)}{i.verified ? ', verified' : ''})</option>)}</select>
            {images.length === 0 && <span className="hint">The library is empty: import an image on the Storage page.</span>}</div>}
          
        </>}
        {step === 2 && <>
          <p className="muted small" data-testid="host-free">This host: {free}.</p>
          <div className="field"><label htmlFor="wz-cpus">vCPUs</label><input id="wz-cpus" name="cpus" inputMode="numeric" value={d.cpus} onChange={(e) => set({ cpus: e.target.value })} />{msg('cpu.count')}</div>
          <div className="field"><label htmlFor="wz-memory">Memory (e.g. 512Mi, 2Gi)</label><input id="wz-memory" name="memory" value={d.memory} onChange={(e) => set({ memory: e.target.value })} aria-invalid={problems.some((p) => p.field === 'memory') || undefined} />{msg('memory')}</div>
        </>}
        {step === 3 && <>
          {d.disks.length === 0 && <p className="muted">No extra disks.</p>}
          {d.disks.map((x, i) => (
            <fieldset key={i} className="group item"><legend>Disk {i + 1}</legend>
              <div className="field"><label htmlFor={`wz-dn${i}`}>Name</label><input id={`wz-dn${i}`} value={x.name} onChange={(e) => set({ disks: d.disks.map((y, j) => (j === i ? { ...y, name: e.target.value } : y)) })} /></div>
              <div className="field"><label htmlFor={`wz-ds${i}`}>Size</label><input id={`wz-ds${i}`} value={x.size} onChange={(e) => set({ disks: d.disks.map((y, j) => (j === i ? { ...y, size: e.target.value } : y)) })} /></div>
              <button type="button" onClick={() => set({ disks: d.disks.filter((_, j) => j !== i) })}>Remove disk {i + 1}</button>
            </fieldset>
          ))}
          <button type="button" onClick={() => set({ disks: [...d.disks, { name: `data${d.disks.length || ''}`, size: '1Gi' }] })}>Add disk</button>
          
        </>}
        {step === 4 && <>
          <label className="check"><input type="checkbox" checked={d.network} onChange={(e) => set({ network: e.target.checked })} /> a NIC on user-mode networking (NAT to the host's network; bridges come later)</label>
          {d.network && <div className="field"><label htmlFor="wz-model">Model</label><select id="wz-model" value={d.model} onChange={(e) => set({ model: e.target.value as Draft['model'] })}><option value="virtio">virtio</option><option value="e1000">e1000</option></select></div>}
          
        </>}
        {step === 5 && <>
          <label className="check"><input type="checkbox" checked={d.cloudInit} onChange={(e) => set({ cloudInit: e.target.checked })} /> attach a cloud-init seed (hostname, SSH keys)</label>
          {d.cloudInit && <>
            <div className="field"><label htmlFor="wz-host">Hostname (default: the VM name)</label><input id="wz-host" value={d.hostname} onChange={(e) => set({ hostname: e.target.value })} /></div>
            <div className="field"><label htmlFor="wz-keys">SSH public keys (one a line)</label><textarea id="wz-keys" rows={3} value={d.keys} onChange={(e) => set({ keys: e.target.value })} /></div>
          </>}
          
        </>}
        {step === 6 && <>
          <p className="muted small">The spec that will be sent (the same document <code>polyvisor vm create NAME --from spec.yaml</code> takes):</p>
          <pre className="code" data-testid="wizard-yaml">{stringify(spec)}</pre>
          <label className="check"><input type="checkbox" checked={d.start} onChange={(e) => set({ start: e.target.checked })} /> start it once created</label>
          {problems.length > 0 && <ul className="error">{problems.map((p) => <li key={p.field + p.message}>{p.field}: {p.message}</li>)}</ul>}
        </>}
        {others.length > 0 && <ul className="error" data-testid="step-problems">{others.map((p) => <li key={p.field + p.message}><code>{p.field}</code>: {p.message}</li>)}</ul>}
        {error && <p className="error" role="alert">{error}</p>}
        <div className="row end">
          {step > 0 && <button type="button" onClick={() => setStep(step - 1)}>Back</button>}
          <button type="submit" className="primary" disabled={busy}>{step < STEPS.length - 1 ? 'Next' : 'Create'}</button>
        </div>
      </form>
    </section>
  );
}
