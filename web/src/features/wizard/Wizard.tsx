/**
 * Create a VM in steps (`/create?wizard`): name and labels, source, CPU and
 * memory (beside the host's free capacity), disks, network, cloud-init, and a
 * summary that shows the spec as YAML. The daemon checks the draft as you
 * type (POST /v1/specs/validate: the create's own checks, so the CLI's
 * messages), and each message shows beside its field on the step that holds
 * it. `?from=VM` starts from a VM's spec (create from template: fresh
 * disks), `?clone=VM` too, and creates through the clone route (its disks
 * copied); either way the name starts empty.
 */
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { stringify } from 'yaml';
import { api, ApiError, enc, errorText } from '../../api/client.js';
import { putVm, useStore } from '../../api/store.js';
import type { CloneView, ImageView, OperationView, VmView } from '../../api/types.js';
import { taskLink, toast } from '../../components/Toasts.js';
import { bytes } from '../../format.js';
import { navigate, useQuery } from '../../router.js';
import { diskIndexes, draftOf, EMPTY, specOf, type Draft } from './draft.js';
import { useSpecCheck } from './useSpecCheck.js';

const STEPS = ['Name', 'Source', 'CPU and memory', 'Disks', 'Network', 'Cloud-init', 'Summary'] as const;
/** Which step holds a spec field (by its first path segment), for the API's field messages. */
const STEP_OF: Record<string, number> = { name: 0, description: 0, labels: 0, boot: 1, cpu: 2, memory: 2, disks: 3, networks: 4, cloudInit: 5 };
/** The path rules spell a field disks[0].path, the spec's own rules disks.0.path: one spelling. */
const norm = (f: string): string => f.replace(/\[(\d+)\]/g, '.$1');
const stepOf = (field: string): number => STEP_OF[field.split('.')[0]!] ?? STEPS.length - 1;

export default function Wizard() {
  const from = useQuery('from');
  const cloneOf = useQuery('clone');
  const base = cloneOf ?? from;
  const template = useStore((s) => (base ? s.vms.get(base) : undefined));
  const [d, setD] = useState<Draft>(EMPTY);
  const [touched, setTouched] = useState(false);
  const [step, setStepRaw] = useState(0);
  const [visited, setVisited] = useState<ReadonlySet<number>>(new Set([0]));
  const [images, setImages] = useState<ImageView[] | null>(null);
  const [refused, setRefused] = useState<Array<{ field: string; message: string }>>([]);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const host = useStore((s) => s.host);
  // The VM whose spec fills the draft, once it did: until then the steps are not shown (what was typed into an
  // empty form would be overwritten when the spec arrives).
  const [loadedBase, setLoadedBase] = useState<string | null>(null);
  const vmsLoaded = useStore((s) => s.loaded);
  const setStep = (n: number): void => { setStepRaw(n); setVisited((v) => new Set([...v, n])); };
  const set = (p: Partial<Draft>): void => { setD((x) => ({ ...x, ...p })); setTouched(true); setRefused([]); };
  useEffect(() => { api<ImageView[]>('GET', '/v1/images').then(setImages, () => setImages([])); }, []);
  useEffect(() => {
    // The template's spec once it and the library are known (the library tells an image CD-ROM from a disk).
    if (!base || !template || images === null || loadedBase === base) return;
    setD(draftOf(template.spec, images));
    setLoadedBase(base);
  }, [base, template, images, loadedBase]);
  const waiting = !!base && loadedBase !== base;
  const spec = useMemo(() => specOf(d, images ?? []), [d, images]);
  const live = useSpecCheck(spec, touched);
  // A create's refusal until the next edit; else the live check, on the steps already seen (all of them on the summary).
  const problems = refused.length ? refused : live.problems.filter((p) => step === STEPS.length - 1 || visited.has(stepOf(p.field)));
  const here = problems.filter((p) => stepOf(p.field) === step);
  const ix = diskIndexes(d);
  const under = new Set(['name', 'description', 'labels', 'boot.kernel', 'boot.initrd', 'boot.cmdline', 'cpu.count', 'memory', 'networks.0.model', 'cloudInit.hostname',
    ...(ix.source === null ? [] : [`disks.${ix.source}.size`, `disks.${ix.source}.path`]),
    ...d.disks.flatMap((_, i) => [`disks.${ix.extra(i)}.name`, `disks.${ix.extra(i)}.size`])]);
  const isUnder = (f: string): boolean => under.has(f) || f.startsWith('cloudInit.sshAuthorizedKeys');
  const others = here.filter((p) => !isUnder(p.field));
  const matching = (field: string): typeof problems => problems.filter((p) => p.field === field || (field.endsWith('.') && p.field.startsWith(field)));
  const errId = (field: string): string => `wz-err-${field.replace(/[^A-Za-z0-9]/g, '-')}`;
  const msg = (field: string): ReactNode => {
    const found = matching(field);
    return found.length ? <span id={errId(field)} className="field-error" data-field={field}>{found.map((p) => p.message).join('; ')}</span> : null;
  };
  const aria = (field: string) => (matching(field).length ? { 'aria-invalid': true, 'aria-describedby': errId(field) } : {});
  const title = cloneOf ? `Clone ${cloneOf}, step by step` : from ? `Create a VM from ${from}, step by step` : 'Create a VM, step by step';

  const create = async (): Promise<void> => {
    setBusy(true);
    setError('');
    setRefused([]);
    try {
      const vm = cloneOf
        ? (await api<CloneView>('POST', `/v1/vms/${enc(cloneOf)}/clone`, { name: d.name, spec })).vm
        : await api<VmView>('POST', '/v1/vms', { spec });
      putVm(vm);
      toast(`${vm.name} created`);
      if (d.start) {
        const op = await api<OperationView>('POST', `/v1/vms/${enc(vm.name)}/start?async=true`, {});
        toast(`start of ${vm.name} requested`, op?.id ? { link: taskLink(op.id) } : {});
      }
      navigate(`/vms/${enc(vm.name)}`);
    } catch (err) {
      if (err instanceof ApiError && err.fields.length) {
        const fields = err.fields.map((f) => ({ field: norm(f.field), message: f.message }));
        setRefused(fields);
        setStep(Math.min(...fields.map((f) => stepOf(f.field))));
      } else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const free = host ? `${bytes(host.memTotal - host.memUsed)} of ${bytes(host.memTotal)} free, ${host.cpus} CPUs` : 'reading…';
  const verdict = !touched ? '' : live.checking ? 'Checking…' : live.error ? `Could not check: ${live.error}` : here.length ? `${here.length} ${here.length === 1 ? 'problem' : 'problems'} on this step` : 'The daemon accepts this step.';
  return (
    <section className="wizard" aria-labelledby="wizard-title">
      <h1 id="wizard-title">{title}</h1>
      {waiting && (vmsLoaded && !template
        ? <p className="error" role="alert">There is no VM named {base}.</p>
        : <p className="muted" data-testid="wizard-loading">Reading {base}…</p>)}
      {cloneOf && <p className="small muted">The copy starts from {cloneOf}'s configuration: its disks are copied (the VM must be stopped), read-only images shared, disks you add are created empty; it gets its own MAC address and no host port forwards.</p>}
      {from && <p className="small muted">A new VM with {from}'s configuration: its disks are created empty (use clone to copy them), images given by path are shared.</p>}
      {!waiting && <>
      <ol className="steps" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li key={s}><button type="button" className="step-btn" aria-current={i === step ? 'step' : undefined} onClick={() => setStep(i)} data-step={i}>
            {i + 1}. {s}{problems.some((p) => stepOf(p.field) === i) ? ' ⚠' : ''}</button></li>
        ))}
      </ol>
      <form className="card create" onSubmit={(e) => { e.preventDefault(); if (step < STEPS.length - 1) setStep(step + 1); else void create(); }} aria-label={STEPS[step]}>
        <h2>{STEPS[step]}</h2>
        {refused.length > 0 && here.length > 0 && <p className="error" role="alert">The daemon refused this step: see the messages under the fields.</p>}
        <p className="small muted wz-verdict" role="status" data-testid="wizard-check">{verdict}</p>
        {step === 0 && <>
          <div className="field"><label htmlFor="wz-name">Name</label><input id="wz-name" name="name" required value={d.name} onChange={(e) => set({ name: e.target.value })} {...aria('name')} />{msg('name')}</div>
          <div className="field"><label htmlFor="wz-desc">Description</label><input id="wz-desc" value={d.description} onChange={(e) => set({ description: e.target.value })} {...aria('description')} />{msg('description')}</div>
          <div className="field"><label htmlFor="wz-labels">Labels (key=value, one a line)</label><textarea id="wz-labels" rows={3} value={d.labels} onChange={(e) => set({ labels: e.target.value })} {...aria('labels.')} />{msg('labels.')}{msg('labels')}</div>
        </>}
        {step === 1 && <>
          <fieldset className="group"><legend>Boot from</legend>
            {([['kernel', 'a kernel and initrd on the host (direct boot)'], ['empty', 'an empty disk (install later, e.g. from an ISO)'], ['image', 'an image from the library, as a read-only CD-ROM'],
              ...(d.keptDisks?.length ? [['template', `the disks of ${base ?? 'the template'}, as they are`] as const] : [])] as const).map(([v, l]) => (
              <label key={v} className="check"><input type="radio" name="source" value={v} checked={d.source === v} onChange={() => set({ source: v })} /> {l}</label>
            ))}
          </fieldset>
          {d.source === 'kernel' && <>
            <div className="field"><label htmlFor="wz-kernel">Kernel (host path)</label><input id="wz-kernel" name="kernel" value={d.kernel} onChange={(e) => set({ kernel: e.target.value })} {...aria('boot.kernel')} />{msg('boot.kernel')}</div>
            <div className="field"><label htmlFor="wz-initrd">Initrd (host path)</label><input id="wz-initrd" name="initrd" value={d.initrd} onChange={(e) => set({ initrd: e.target.value })} {...aria('boot.initrd')} />{msg('boot.initrd')}</div>
            <div className="field"><label htmlFor="wz-cmdline">Kernel command line</label><input id="wz-cmdline" name="cmdline" value={d.cmdline} onChange={(e) => set({ cmdline: e.target.value })} {...aria('boot.cmdline')} />{msg('boot.cmdline')}</div>
          </>}
          {d.source === 'empty' && <div className="field"><label htmlFor="wz-empty">Disk size</label><input id="wz-empty" value={d.emptySize} onChange={(e) => set({ emptySize: e.target.value })} {...aria(`disks.${ix.source ?? 0}.size`)} />{msg(`disks.${ix.source ?? 0}.size`)}</div>}
          {d.source === 'image' && <div className="field"><label htmlFor="wz-image">Image</label>
            <select id="wz-image" value={d.image} onChange={(e) => set({ image: e.target.value })} {...aria(`disks.${ix.source ?? 0}.path`)}><option value="">choose…</option>{(images ?? []).map((i) => <option key={i.name} value={i.name}>{i.name} ({i.format}, {bytes(i.virtualSize)}{i.verified ? ', verified' : ''})</option>)}</select>
            {msg(`disks.${ix.source ?? 0}.path`)}
            {images?.length === 0 && <span className="hint">The library is empty: import an image on the Storage page.</span>}</div>}
          {d.source === 'template' && <p className="muted small">Kept as they are: {(d.keptDisks ?? []).map((x) => `${String(x['name'])} (${String(x['path'] ?? x['size'] ?? '')})`).join(', ')}.</p>}
        </>}
        {step === 2 && <>
          <p className="muted small" data-testid="host-free">This host: {free}.</p>
          <div className="field"><label htmlFor="wz-cpus">vCPUs</label><input id="wz-cpus" name="cpus" inputMode="numeric" value={d.cpus} onChange={(e) => set({ cpus: e.target.value })} {...aria('cpu.count')} />{msg('cpu.count')}</div>
          <div className="field"><label htmlFor="wz-memory">Memory (e.g. 512Mi, 2Gi)</label><input id="wz-memory" name="memory" value={d.memory} onChange={(e) => set({ memory: e.target.value })} {...aria('memory')} />{msg('memory')}</div>
        </>}
        {step === 3 && <>
          {d.disks.length === 0 && <p className="muted">No extra disks.</p>}
          {d.disks.map((x, i) => (
            <fieldset key={i} className="group item"><legend>Disk {i + 1}</legend>
              <div className="field"><label htmlFor={`wz-dn${i}`}>Name</label><input id={`wz-dn${i}`} value={x.name} onChange={(e) => set({ disks: d.disks.map((y, j) => (j === i ? { ...y, name: e.target.value } : y)) })} {...aria(`disks.${ix.extra(i)}.name`)} />{msg(`disks.${ix.extra(i)}.name`)}</div>
              <div className="field"><label htmlFor={`wz-ds${i}`}>Size</label><input id={`wz-ds${i}`} value={x.size} onChange={(e) => set({ disks: d.disks.map((y, j) => (j === i ? { ...y, size: e.target.value } : y)) })} {...aria(`disks.${ix.extra(i)}.size`)} />{msg(`disks.${ix.extra(i)}.size`)}</div>
              <button type="button" onClick={() => set({ disks: d.disks.filter((_, j) => j !== i) })}>Remove disk {i + 1}</button>
            </fieldset>
          ))}
          <button type="button" onClick={() => set({ disks: [...d.disks, { name: `data${d.disks.length || ''}`, size: '1Gi' }] })}>Add disk</button>
        </>}
        {step === 4 && <>
          <label className="check"><input type="checkbox" checked={d.network} onChange={(e) => set({ network: e.target.checked })} /> a NIC on user-mode networking (NAT to the host's network; bridges come later)</label>
          {d.network && <div className="field"><label htmlFor="wz-model">Model</label><select id="wz-model" value={d.model} onChange={(e) => set({ model: e.target.value as Draft['model'] })} {...aria('networks.0.model')}><option value="virtio">virtio</option><option value="e1000">e1000</option><option value="e1000e">e1000e</option><option value="vmxnet3">vmxnet3</option><option value="rtl8139">rtl8139</option></select>{msg('networks.0.model')}</div>}
        </>}
        {step === 5 && <>
          <label className="check"><input type="checkbox" checked={d.cloudInit} onChange={(e) => set({ cloudInit: e.target.checked })} /> attach a cloud-init seed (hostname, SSH keys)</label>
          {d.cloudInit && <>
            <div className="field"><label htmlFor="wz-host">Hostname (default: the VM name)</label><input id="wz-host" value={d.hostname} onChange={(e) => set({ hostname: e.target.value })} {...aria('cloudInit.hostname')} />{msg('cloudInit.hostname')}</div>
            <div className="field"><label htmlFor="wz-keys">SSH public keys (one a line)</label><textarea id="wz-keys" rows={3} value={d.keys} onChange={(e) => set({ keys: e.target.value })} {...aria('cloudInit.sshAuthorizedKeys.')} />{msg('cloudInit.sshAuthorizedKeys.')}</div>
          </>}
        </>}
        {step === 6 && <>
          <p className="muted small">The spec that will be sent (the same document <code>polyvisor vm create NAME --from spec.yaml</code> takes):</p>
          <pre className="code" data-testid="wizard-yaml">{stringify(spec)}</pre>
          <label className="check"><input type="checkbox" checked={d.start} onChange={(e) => set({ start: e.target.checked })} /> start it once created</label>
          {problems.length > 0 && <ul className="error" data-testid="summary-problems">{problems.map((p) => <li key={p.field + p.message}>{p.field}: {p.message}</li>)}</ul>}
        </>}
        {others.length > 0 && step !== STEPS.length - 1 && <ul className="error" data-testid="step-problems">{others.map((p) => <li key={p.field + p.message}><code>{p.field}</code>: {p.message}</li>)}</ul>}
        {error && <p className="error" role="alert">{error}</p>}
        <div className="row end">
          {step > 0 && <button type="button" onClick={() => setStep(step - 1)}>Back</button>}
          <button type="submit" className="primary" disabled={busy}>{step < STEPS.length - 1 ? 'Next' : cloneOf ? 'Clone' : 'Create'}</button>
        </div>
      </form>
      </>}
    </section>
  );
}
