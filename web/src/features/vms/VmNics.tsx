/**
 * The VM page's NICs: each NIC with its network, MAC, link and the addresses
 * seen for it (dnsmasq lease, guest agent), read every 10 s
 * (GET /v1/vms/NAME/nics). Operators add a NIC on a network, set its link up
 * or down and remove it: live when the VM runs (hot-plug), else in the spec.
 */
import { useEffect, useState } from 'react';
import { api, enc, errorText } from '../../api/client.js';
import { useCan } from '../../api/store.js';
import type { NetworkView, VmNicView, VmView } from '../../api/types.js';
import { confirmAction } from '../../components/Confirm.js';

const EVERY_MS = 10_000;

export function VmNics({ vm }: { vm: VmView }) {
  const [nics, setNics] = useState<VmNicView[] | null>(null);
  const [networks, setNetworks] = useState<string[]>([]);
  const [pick, setPick] = useState('');
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  const canWrite = useCan('vm:write');
  const canOperate = useCan('vm:operate');
  useEffect(() => {
    let live = true;
    const read = (): void => {
      api<VmNicView[]>('GET', `/v1/vms/${enc(vm.name)}/nics`).then((n) => { if (live) setNics(n); }, (e: unknown) => { if (live) setError(errorText(e)); });
    };
    read();
    const t = setInterval(read, EVERY_MS);
    return () => { live = false; clearInterval(t); };
  }, [vm.name, vm.state, tick]);
  useEffect(() => {
    if (!canWrite) return;
    api<NetworkView[]>('GET', '/v1/networks').then((n) => { setNetworks(n.map((x) => x.name)); setPick((p) => p || n[0]?.name || ''); }, () => setNetworks([]));
  }, [canWrite]);

  const run = async (fn: () => Promise<unknown>): Promise<void> => {
    setError('');
    try {
      await fn();
    } catch (e) {
      setError(errorText(e));
    }
    setTick((t) => t + 1);
  };
  const remove = async (nic: VmNicView): Promise<void> => {
    if (!(await confirmAction(`Remove NIC ${nic.name} of ${vm.name}?`, <p>{vm.state === 'running' ? 'It is unplugged from the running guest; ' : ''}its tap, rules and address go.</p>, 'Remove'))) return;
    await run(() => api('DELETE', `/v1/vms/${enc(vm.name)}/nics/${enc(nic.name)}`));
  };

  return (
    <div className="card" data-testid="vm-nics">
      <h2>NICs</h2>
      {error && <p className="error" role="alert">{error}</p>}
      {nics === null ? <p className="muted">Loading…</p> : nics.length === 0 ? <p className="muted">no NICs</p> : (
        <table className="table"><thead><tr><th>NIC</th><th>Network</th><th>MAC</th><th>Model</th><th>Link</th><th>Addresses</th><th /></tr></thead>
          <tbody>{nics.map((n) => (
            <tr key={n.name} data-nic={n.name}>
              <td>{n.name}</td>
              <td>{n.network ?? `(${n.type})`}</td>
              <td><code>{n.mac}</code></td>
              <td>{n.model}</td>
              <td>{n.linkUp ? 'up' : 'down'}</td>
              <td data-testid="nic-addresses">{n.addresses.map((a) => `${a.address} (${a.source})`).join(', ') || (n.reservedIp ? `${n.reservedIp} (reserved)` : '—')}</td>
              <td>
                {canOperate && n.type === 'network' && <button type="button" onClick={() => void run(() => api('PATCH', `/v1/vms/${enc(vm.name)}/nics/${enc(n.name)}`, { linkUp: !n.linkUp }))}>{n.linkUp ? 'link down' : 'link up'}</button>}
                {canWrite && n.type === 'network' && <button type="button" className="danger-outline" onClick={() => void remove(n)}>remove</button>}
              </td>
            </tr>
          ))}</tbody>
        </table>
      )}
      {canWrite && networks.length > 0 && (
        <form className="row" onSubmit={(e) => { e.preventDefault(); void run(() => api('POST', `/v1/vms/${enc(vm.name)}/nics`, { network: pick })); }}>
          <label>Network <select value={pick} onChange={(e) => setPick(e.target.value)}>{networks.map((n) => <option key={n}>{n}</option>)}</select></label>
          <button type="submit">add NIC</button>
        </form>
      )}
    </div>
  );
}
