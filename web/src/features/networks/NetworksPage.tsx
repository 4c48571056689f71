/**
 * /networks: this host's virtual networks (NAT, isolated, bridged) with their
 * subnet, gateway, bridge and how many NICs use them; an admin creates one
 * (only name and mode are needed: the daemon picks a free subnet) or removes
 * one no VM uses. `?network=NAME` opens one: its NICs (VM, MAC, reserved
 * address, tap) and its DHCP leases from dnsmasq; `&firewall=VM/NIC` adds
 * that NIC's firewall editor (FirewallEditor.tsx).
 */
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, enc, errorText } from '../../api/client.js';
import { useCan } from '../../api/store.js';
import type { NetworkCreateRequest, NetworkDetailView, NetworkView } from '../../api/types.js';
import { confirmAction } from '../../components/Confirm.js';
import { Link } from '../../components/Link.js';
import { toast } from '../../components/Toasts.js';
import { when } from '../../format.js';
import { navigate, useQuery } from '../../router.js';
import { reloadNetworks, useNetworks } from './data.js';
import { FirewallEditor } from './FirewallEditor.js';

const MODES = [
  ['nat', 'NAT: guests reach out through the host, DHCP and DNS on the bridge'],
  ['isolated', 'isolated: guests see each other and the host only'],
  ['bridge', 'bridged: guests on the uplink\'s own network'],
] as const;

function Detail({ name }: { name: string }) {
  const [d, setD] = useState<NetworkDetailView | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let live = true;
    const read = (): void => {
      api<NetworkDetailView>('GET', `/v1/networks/${enc(name)}`).then((x) => { if (live) { setD(x); setError(''); } }, (e: unknown) => { if (live) setError(errorText(e)); });
    };
    read();
    const t = setInterval(read, 5_000); // leases come and go
    return () => { live = false; clearInterval(t); };
  }, [name]);
  if (error) return <p className="error" role="alert">{error}</p>;
  if (!d) return <p className="muted">Reading {name}…</p>;
  return (
    <div className="card" data-testid="network-detail" data-network={name}>
      <h2>{name}</h2>
      <dl className="kv">
        <dt>Mode</dt><dd>{d.mode}</dd>
        <dt>Subnet</dt><dd>{d.subnet ?? '—'}{d.gateway ? ` · gateway ${d.gateway}` : ''}</dd>
        <dt>DHCP</dt><dd>{d.dhcpRange ? `${d.dhcpRange.start} – ${d.dhcpRange.end}` : '—'}</dd>
        <dt>DNS domain</dt><dd>{d.dnsDomain ?? '—'}</dd>
        <dt>Bridge</dt><dd>{d.bridge}{d.uplink ? ` · uplink ${d.uplink}` : ''}{d.vlan ? ` · VLAN ${d.vlan}` : ''}</dd>
        <dt>Created</dt><dd>{when(d.createdAt)}</dd>
      </dl>
      <h3>NICs</h3>
      {d.nics.length === 0 ? <p className="muted" data-testid="no-nics">No VM NIC is on this network.</p> : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label={`NICs on ${name}`}><table className="table" data-testid="network-nics">
          <thead><tr><th>VM</th><th>NIC</th><th>MAC</th><th>Address</th><th>Tap</th><th>Firewall</th></tr></thead>
          <tbody>{d.nics.map((n) => <tr key={`${n.vm}/${n.nic}`} data-vm={n.vm}><td><Link to={`/vms/${enc(n.vm)}`}>{n.vm}</Link></td><td>{n.nic}</td><td className="num">{n.mac}</td><td className="num">{n.ip ?? '—'}</td><td className="small">{n.tap}</td><td><Link to={`/networks?network=${enc(name)}&firewall=${enc(`${n.vm}/${n.nic}`)}`} aria-label={`firewall of ${n.vm} ${n.nic}`}>firewall</Link></td></tr>)}</tbody>
        </table></div>
      )}
      <h3>DHCP leases</h3>
      {d.leases.length === 0 ? <p className="muted" data-testid="no-leases">None yet.</p> : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label={`Leases on ${name}`}><table className="table" data-testid="network-leases">
          <thead><tr><th>Address</th><th>MAC</th><th>Hostname</th><th>Expires</th></tr></thead>
          <tbody>{d.leases.map((l) => <tr key={l.mac} data-ip={l.ip}><td className="num">{l.ip}</td><td className="num">{l.mac}</td><td>{l.hostname ?? '—'}</td><td className="small">{l.expiresAt ? when(l.expiresAt) : 'never'}</td></tr>)}</tbody>
        </table></div>
      )}
    </div>
  );
}

function CreateNetwork() {
  const [f, setF] = useState({ name: '', mode: 'nat', subnet: '', start: '', end: '', dnsDomain: '', uplink: '', vlan: '' });
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const set = (p: Partial<typeof f>): void => setF((x) => ({ ...x, ...p }));
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const r: NetworkCreateRequest = {
        name: f.name.trim(), mode: f.mode as NetworkCreateRequest['mode'],
        ...(f.subnet.trim() ? { subnet: f.subnet.trim() } : {}),
        ...(f.start.trim() || f.end.trim() ? { dhcpRange: { start: f.start.trim(), end: f.end.trim() } } : {}),
        ...(f.dnsDomain.trim() ? { dnsDomain: f.dnsDomain.trim() } : {}),
        ...(f.uplink.trim() ? { uplink: f.uplink.trim() } : {}),
        ...(f.vlan.trim() ? { vlan: Number(f.vlan) } : {}),
      };
      const n = await api<NetworkView>('POST', '/v1/networks', r);
      toast(`network ${n.name} created: ${n.subnet ?? n.bridge}`);
      setF({ name: '', mode: 'nat', subnet: '', start: '', end: '', dnsDomain: '', uplink: '', vlan: '' });
      await reloadNetworks();
      navigate(`/networks?network=${enc(n.name)}`);
    } catch (err) {
      setError(err instanceof ApiError && err.fields.length ? err.fields.map((x) => `${x.field}: ${x.message}`).join('; ') : errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card create" aria-label="Create a network" onSubmit={(e) => void submit(e)}>
      <h2>Create a network</h2>
      <div className="field"><label htmlFor="net-name">Name</label><input id="net-name" name="name" required maxLength={12} value={f.name} onChange={(e) => set({ name: e.target.value })} /></div>
      <fieldset className="group"><legend>Mode</legend>
        {MODES.map(([v, l]) => <label key={v} className="check"><input type="radio" name="mode" value={v} checked={f.mode === v} onChange={() => set({ mode: v })} /> {l}</label>)}
      </fieldset>
      {f.mode !== 'bridge' && <>
        <div className="field"><label htmlFor="net-subnet">Subnet (CIDR; empty: a free one is picked)</label><input id="net-subnet" name="subnet" placeholder="10.123.0.0/24" value={f.subnet} onChange={(e) => set({ subnet: e.target.value })} /></div>
        <div className="row wrap">
          <div className="field"><label htmlFor="net-start">DHCP from</label><input id="net-start" name="dhcp-start" value={f.start} onChange={(e) => set({ start: e.target.value })} /></div>
          <div className="field"><label htmlFor="net-end">DHCP to</label><input id="net-end" name="dhcp-end" value={f.end} onChange={(e) => set({ end: e.target.value })} /></div>
        </div>
        <div className="field"><label htmlFor="net-dns">DNS domain (empty: the network's name)</label><input id="net-dns" name="dns-domain" value={f.dnsDomain} onChange={(e) => set({ dnsDomain: e.target.value })} /></div>
      </>}
      {f.mode !== 'isolated' && <div className="field"><label htmlFor="net-uplink">Uplink interface{f.mode === 'nat' ? ' (empty: any)' : ''}</label><input id="net-uplink" name="uplink" required={f.mode === 'bridge'} value={f.uplink} onChange={(e) => set({ uplink: e.target.value })} /></div>}
      <div className="field"><label htmlFor="net-vlan">VLAN (1-4094, optional)</label><input id="net-vlan" name="vlan" inputMode="numeric" value={f.vlan} onChange={(e) => set({ vlan: e.target.value })} /></div>
      {error && <p className="error" role="alert" data-testid="network-error">{error}</p>}
      <div className="row end"><button type="submit" className="primary" disabled={busy}>Create</button></div>
    </form>
  );
}

export default function NetworksPage() {
  const d = useNetworks();
  const only = useQuery('network');
  const fwOf = useQuery('firewall'); // VM/NIC: that NIC's firewall editor under the network
  const isAdmin = useCan('network:admin');
  const [error, setError] = useState('');
  const remove = async (n: NetworkView): Promise<void> => {
    const ok = await confirmAction(`Remove network ${n.name}?`, <p>Its bridge {n.bridge}, its DHCP server and its firewall rules go. A network that VM NICs use cannot be removed.</p>, 'Remove');
    if (!ok) return;
    setError('');
    try {
      await api('DELETE', `/v1/networks/${enc(n.name)}`);
      toast(`network ${n.name} removed`);
      if (only === n.name) navigate('/networks');
    } catch (err) {
      setError(errorText(err));
    }
    await reloadNetworks();
  };
  return (
    <section aria-labelledby="net-title">
      <h1 id="net-title">Networks</h1>
      <p className="muted small">Virtual networks of this host: Linux bridges with a DHCP and DNS server each and Polyvisor's own nftables rules (docs/networks.md). A VM's NIC joins one with <code>network: NAME</code> in its spec.</p>
      {d.loaded === null && <p className="muted">This daemon has no networks API.</p>}
      {d.error && <p className="error" role="alert">{d.error}</p>}
      {error && <p className="error" role="alert" data-testid="networks-error">{error}</p>}
      <div className="card">
        <h2>Networks</h2>
        {d.networks.length === 0 && d.loaded ? <p className="muted" data-testid="no-networks">None yet{isAdmin ? ': create one below.' : '.'}</p> : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Networks table"><table className="table" data-testid="networks">
            <thead><tr><th>Name</th><th>Mode</th><th>Subnet</th><th>Gateway</th><th>Bridge</th><th className="r">NICs</th><th><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>{d.networks.map((n) => (
              <tr key={n.name} data-network={n.name} aria-current={only === n.name ? 'true' : undefined}>
                <td><Link to={`/networks?network=${enc(n.name)}`}>{n.name}</Link></td>
                <td>{n.mode}</td>
                <td className="num">{n.subnet ?? '—'}</td>
                <td className="num">{n.gateway ?? '—'}</td>
                <td className="small">{n.bridge}</td>
                <td className="r num">{n.nics.length}</td>
                <td className="row">{isAdmin && <button type="button" className="danger-outline" onClick={() => void remove(n)}>remove</button>}</td>
              </tr>
            ))}</tbody>
          </table></div>
        )}
      </div>
      {only && <Detail key={only} name={only} />}
      {only && fwOf && fwOf.includes('/') && <FirewallEditor key={fwOf} vm={fwOf.slice(0, fwOf.lastIndexOf('/'))} nic={fwOf.slice(fwOf.lastIndexOf('/') + 1)} />}
      {isAdmin && <CreateNetwork />}
    </section>
  );
}
