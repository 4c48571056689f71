/**
 * /endpoints: the hypervisors this daemon manages besides its own QEMU
 * (libvirt, vSphere, Proxmox VE), each with its last status; add one (driver,
 * URL, credentials typed once and never shown back), test it, remove it; and
 * the VMs of every endpoint with a driver badge, whose action buttons are the
 * ones its driver can do from its state (InventoryVmView.actions) and the
 * user's role may run. `?endpoint=NAME` marks one endpoint and shows only its VMs.
 */
import { useState } from 'react';
import { api, enc, errorText } from '../../api/client.js';
import { useCan } from '../../api/store.js';
import type { EndpointView, InventoryVmView, OperationView } from '../../api/types.js';
import { confirmAction } from '../../components/Confirm.js';
import { Link } from '../../components/Link.js';
import { taskLink, toast } from '../../components/Toasts.js';
import { bytes, when } from '../../format.js';
import { useQuery } from '../../router.js';
import { AddEndpoint } from './AddEndpoint.js';
import { FOREIGN_ACTIONS, reloadEndpoints, useEndpointData } from './data.js';

export function DriverBadge({ driver }: { driver: string }) {
  return <span className={`driver-badge d-${driver.replace(/[^a-z0-9-]/gi, '')}`} data-testid="driver-badge">{driver}</span>;
}

function status(e: EndpointView): string {
  const s = e.status;
  if (!s) return 'not checked yet';
  if (!s.reachable) return `unreachable: ${s.error ? `${s.error.code}: ${s.error.message}` : 'no answer'}`;
  return `${s.product ?? e.driver}${s.version ? ` ${s.version}` : ''} · ${s.hosts.length} ${s.hosts.length === 1 ? 'host' : 'hosts'} · ${s.vms ?? '?'} VMs`;
}

/** Which of a VM's allowed capabilities become buttons now (pause needs it running, resume paused). */
export function actionsOf(vm: InventoryVmView): string[] {
  return FOREIGN_ACTIONS.filter((a) => vm.actions.includes(a.capability))
    .filter((a) => (a.action === 'pause' ? vm.state === 'running' : a.action === 'resume' ? vm.state === 'paused' : true))
    .map((a) => a.action);
}

export default function EndpointsPage() {
  const d = useEndpointData(true);
  const only = useQuery('endpoint');
  const isAdmin = useCan('endpoint:admin');
  const canOperate = useCan('vm:operate');
  const [busy, setBusy] = useState('');
  const [error, setError] = useState('');
  const rows = d.inventory.vms.filter((v) => !only || v.endpoint === only);

  const run = async (what: string, work: () => Promise<void>): Promise<void> => {
    setBusy(what);
    setError('');
    try { await work(); } catch (err) { setError(errorText(err)); } finally { setBusy(''); }
  };
  const test = (e: EndpointView) => run(`test:${e.name}`, async () => {
    const after = await api<EndpointView>('POST', `/v1/endpoints/${enc(e.name)}/test`);
    toast(`${e.name}: ${status(after)}`, after.status?.reachable ? {} : { kind: 'error' });
    await reloadEndpoints({ fresh: true, all: true });
  });
  const remove = (e: EndpointView) => run(`rm:${e.name}`, async () => {
    const ok = await confirmAction(`Remove endpoint ${e.name}?`, <p>Polyvisor forgets {e.name} ({e.url}) and its stored credentials. Its VMs are not touched: they keep running on {e.driver}.</p>, 'Remove');
    if (!ok) return;
    await api('DELETE', `/v1/endpoints/${enc(e.name)}`);
    toast(`endpoint ${e.name} removed`);
    await reloadEndpoints({ all: true });
  });
  const act = (vm: InventoryVmView, action: string) => run(`${action}:${vm.ref}`, async () => {
    if (FOREIGN_ACTIONS.find((a) => a.action === action)?.risky) {
      const ok = await confirmAction(`${action} ${vm.ref}?`, <p>{action === 'kill' ? 'The VM is powered off at once: unsaved data in the guest is lost.' : `The guest is asked to ${action === 'stop' ? 'shut down' : 'restart'}; its hypervisor may power it off if it does not.`}</p>, action);
      if (!ok) return;
    }
    const op = await api<OperationView>('POST', `/v1/endpoints/${enc(vm.endpoint)}/vms/${enc(vm.name)}/${action}?async=true`, {});
    toast(`${action} of ${vm.ref} requested`, op?.id ? { link: taskLink(op.id) } : {});
  });

  return (
    <section aria-labelledby="ep-title">
      <h1 id="ep-title">Endpoints</h1>
      <p className="muted small">Other hypervisors this daemon manages beside its own QEMU: their VMs show here and in the tree, and act through their own drivers (docs/drivers.md).</p>
      {d.loaded === null && <p className="muted">This daemon has no endpoints API.</p>}
      {d.error && <p className="error" role="alert">{d.error}</p>}
      {error && <p className="error" role="alert">{error}</p>}
      <div className="card">
        <h2>Endpoints</h2>
        {d.endpoints.length === 0 && d.loaded ? <p className="muted" data-testid="no-endpoints">None yet{isAdmin ? ': add one below.' : '.'}</p> : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Endpoints table"><table className="endpoints">
            <thead><tr><th>Name</th><th>Driver</th><th>URL</th><th>Login</th><th>Status</th><th>Checked</th><th><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>{d.endpoints.map((e) => (
              <tr key={e.name} data-endpoint={e.name} aria-current={only === e.name ? 'true' : undefined}>
                <td><Link to={`/endpoints?endpoint=${enc(e.name)}`}>{e.name}</Link></td>
                <td><DriverBadge driver={e.driver} /></td>
                <td className="small">{e.url}</td>
                <td className="small">{e.auth === 'none' ? 'none' : `${e.auth}${e.user ? ` (${e.user})` : ''}`} · TLS {e.tls}</td>
                <td data-testid="endpoint-status" className={e.status && !e.status.reachable ? 'bad' : ''}>{status(e)}</td>
                <td className="small">{when(e.status?.checkedAt)}</td>
                <td className="row">
                  <button type="button" disabled={busy !== ''} onClick={() => void test(e)}>test</button>
                  {isAdmin && <button type="button" className="danger-outline" disabled={busy !== ''} onClick={() => void remove(e)}>remove</button>}
                </td>
              </tr>
            ))}</tbody>
          </table></div>
        )}
      </div>
      {isAdmin && <AddEndpoint drivers={d.drivers} onAdded={() => void reloadEndpoints({ fresh: true, all: true })} />}
      <div className="card">
        <div className="row wrap"><h2>VMs {only ? `on ${only}` : 'on every endpoint'}</h2>{only && <Link to="/endpoints">show all</Link>}
          <button type="button" disabled={busy !== ''} onClick={() => void run('refresh', () => reloadEndpoints({ fresh: true, all: true }))}>refresh</button></div>
        {d.inventory.errors.map((x) => <p key={x.endpoint} className="error" data-testid="inventory-error">{x.endpoint}: {x.code}: {x.message}</p>)}
        {d.inventory.stale.length > 0 && <p className="muted small">From the last answer (the endpoint did not answer now): {d.inventory.stale.join(', ')}.</p>}
        <div className="table-wrap" tabIndex={0} role="region" aria-label="VMs of every endpoint"><table className="inventory">
          <thead><tr><th>VM</th><th>Driver</th><th>State</th><th className="r">vCPU</th><th className="r">Memory</th><th>Host</th><th><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>{rows.map((v) => (
            <tr key={v.ref} data-ref={v.ref}>
              <td>{v.endpoint === 'local' ? <Link to={`/vms/${enc(v.name)}`}>{v.ref}</Link> : v.ref}</td>
              <td><DriverBadge driver={v.driver} /></td>
              <td><span className={`state s-${v.state}`}>{v.state}</span></td>
              <td className="r num">{v.cpus}</td>
              <td className="r num">{bytes(v.memoryBytes)}</td>
              <td className="small">{v.host ?? '—'}</td>
              <td className="row">{canOperate && v.endpoint !== 'local' && actionsOf(v).map((a) => (
                <button key={a} type="button" data-action={a} disabled={busy !== ''} onClick={() => void act(v, a)}>{a}</button>
              ))}</td>
            </tr>
          ))}</tbody>
        </table></div>
        {rows.length === 0 && <p className="muted">No VMs.</p>}
      </div>
    </section>
  );
}
