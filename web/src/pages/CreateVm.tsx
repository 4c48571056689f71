/** Create a VM from the spec's schema; the same form edits a stopped VM (PUT) or clones one under a new name. */
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, enc, errorText } from '../api/client.js';
import { putVm } from '../api/store.js';
import type { CloneView, VmView } from '../api/types.js';
import { SchemaForm, type Schema } from '../components/SchemaForm.js';
import { Link } from '../components/Link.js';
import { navigate } from '../router.js';

type Mode = 'create' | 'edit' | 'clone';

/** The spec as the API returned it, made fit to send back: memory as a size text (a bare number would mean MiB). */
function draftOf(vm: VmView, mode: Mode): Record<string, unknown> {
  const spec = JSON.parse(JSON.stringify(vm.spec)) as Record<string, unknown>;
  const m = spec['memory'];
  if (typeof m === 'number') spec['memory'] = m % 1024 ** 2 === 0 ? `${m / 1024 ** 2}Mi` : `${Math.ceil(m / 1024)}Ki`;
  if (mode === 'clone') {
    spec['name'] = `${vm.name}-copy`;
    // The clone gets its own MAC; host ports cannot be listened on twice.
    spec['networks'] = (spec['networks'] as Array<Record<string, unknown>> | undefined)?.map(({ mac: _mac, ...n }) => ({ ...n, portForwards: [] }));
  }
  return spec;
}

export default function CreateVm({ mode, from }: { mode: Mode; from?: string }) {
  const [schema, setSchema] = useState<Schema | null>(null);
  const [value, setValue] = useState<Record<string, unknown>>({});
  const [formKey, setFormKey] = useState(0);
  const [errors, setErrors] = useState<ReadonlyMap<string, string>>(new Map());
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void (async () => {
      try {
        // Schema and draft together: a form shown before the VM's spec arrived would be empty (and what was typed
        // into it lost when the spec came).
        const [s, vm] = await Promise.all([api<Schema>('GET', '/v1/spec/schema'), from ? api<VmView>('GET', `/v1/vms/${enc(from)}`) : undefined]);
        if (vm) {
          setValue(draftOf(vm, mode));
          setFormKey((k) => k + 1);
        }
        setSchema(s);
      } catch (err) {
        setError(errorText(err));
      }
    })();
  }, [from, mode]);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError('');
    setErrors(new Map());
    try {
      const vm = mode === 'edit' && from
        ? await api<VmView>('PUT', `/v1/vms/${enc(from)}`, { spec: value })
        : mode === 'clone' && from
          ? (await api<CloneView>('POST', `/v1/vms/${enc(from)}/clone`, { name: value['name'], spec: value })).vm
          : await api<VmView>('POST', '/v1/vms', { spec: value });
      putVm(vm);
      navigate(`/vms/${enc(vm.name)}`);
    } catch (err) {
      if (err instanceof ApiError) setErrors(new Map(err.fields.map((f) => [f.field, f.message])));
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const title = mode === 'edit' ? `Edit ${from}` : mode === 'clone' ? `Clone ${from}` : 'Create a VM';
  return (
    <form className="create card" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="create-title">
      <h1 id="create-title">{title}</h1>
      {mode === 'create' && <p className="small"><Link to="/create?wizard">Step by step instead</Link> (name, source, CPU and memory, disks, network, cloud-init, a YAML summary), or <Link to="/import" data-testid="import-link">import another hypervisor&apos;s VM</Link> (OVA, OVF, .vmx, .vbox, Hyper-V, libvirt XML, Proxmox; admins).</p>}
      {mode === 'clone' && <p className="small muted">The copy starts from the same configuration, which you may change here. The VM must be stopped: its disks are copied (snapshots are not), read-only images are shared, and disks you add are created empty. The copy gets its own MAC address and no host port forwards.</p>}
      {mode === 'edit' && <p className="small muted">The name and the disks stay; change disks on the VM page&apos;s storage routes.</p>}
      {!schema ? <p className="muted">Loading the spec schema…</p> : <SchemaForm key={formKey} schema={schema} value={value} onChange={setValue} errors={errors} />}
      {error && <p className="error" role="alert" data-testid="form-error">{error}</p>}
      <div className="row end">
        <button type="button" onClick={() => history.back()}>Cancel</button>
        <button type="submit" className="primary" disabled={busy || !schema}>{mode === 'edit' ? 'Save' : 'Create'}</button>
      </div>
    </form>
  );
}
