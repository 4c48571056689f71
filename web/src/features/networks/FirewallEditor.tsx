/**
 * A VM NIC's firewall (issue 18): its rules in order (direction, protocol,
 * port, peer CIDR, action) and the default policy per direction; a rule is
 * added or removed here and "Save" sends the whole firewall with
 * PUT /v1/vms/NAME/nics/NIC/firewall. A running VM gets the new nftables
 * rules at once, without a restart. Operators edit; viewers read.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, enc, errorText } from '../../api/client.js';
import { useCan } from '../../api/store.js';
import type { FirewallRuleView, NicFirewallView } from '../../api/types.js';
import { toast } from '../../components/Toasts.js';

type Policy = 'accept' | 'drop';
const EMPTY = { direction: 'in', protocol: 'tcp', port: '', peer: '', action: 'drop' };

const portText = (p: FirewallRuleView['port']): string => (p === null ? 'any' : typeof p === 'number' ? String(p) : `${p.from}-${p.to}`);

/** "22" → 22, "8000-8080" → {from, to}, "" → null; anything else is left for the daemon to refuse. */
function parsePort(s: string): FirewallRuleView['port'] {
  const t = s.trim();
  if (!t) return null;
  const m = /^(\d+)\s*-\s*(\d+)$/.exec(t);
  return m ? { from: Number(m[1]), to: Number(m[2]) } : Number(t);
}

export function FirewallEditor({ vm, nic }: { vm: string; nic: string }) {
  const mayEdit = useCan('vm:operate');
  const [fw, setFw] = useState<NicFirewallView | null>(null);
  const [rules, setRules] = useState<FirewallRuleView[]>([]);
  const [defaults, setDefaults] = useState<{ in: Policy; out: Policy }>({ in: 'accept', out: 'accept' });
  const [draft, setDraft] = useState(EMPTY);
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const url = `/v1/vms/${enc(vm)}/nics/${enc(nic)}/firewall`;
  const show = (x: NicFirewallView): void => {
    setFw(x);
    setRules(x.firewall?.rules ?? []);
    setDefaults({ in: x.firewall?.defaultIn ?? 'accept', out: x.firewall?.defaultOut ?? 'accept' });
    setDirty(false);
  };
  useEffect(() => {
    api<NicFirewallView>('GET', url).then(show, (e: unknown) => setError(errorText(e)));
  }, [url]);

  const add = (e: FormEvent): void => {
    e.preventDefault();
    const withPort = draft.protocol === 'tcp' || draft.protocol === 'udp';
    const rule: FirewallRuleView = {
      direction: draft.direction as FirewallRuleView['direction'], action: draft.action as Policy,
      protocol: draft.protocol as FirewallRuleView['protocol'], port: withPort ? parsePort(draft.port) : null, peer: draft.peer.trim() || null,
    };
    setRules((r) => [...r, rule]);
    setDraft(EMPTY);
    setDirty(true);
  };
  const save = async (): Promise<void> => {
    setBusy(true);
    setError('');
    try {
      const open = rules.length === 0 && defaults.in === 'accept' && defaults.out === 'accept';
      const out = await api<NicFirewallView>('PUT', url, { firewall: open ? null : { defaultIn: defaults.in, defaultOut: defaults.out, rules } });
      show(out);
      toast(`firewall of ${vm}/${nic} saved${out.live ? ' and applied to the running VM' : ''}`);
    } catch (err) {
      setError(err instanceof ApiError && err.fields.length ? err.fields.map((x) => `${x.field}: ${x.message}`).join('; ') : errorText(err));
    } finally {
      setBusy(false);
    }
  };

  if (!fw) return error ? <p className="error" role="alert" data-testid="firewall-error">{error}</p> : <p className="muted">Reading the firewall of {vm}/{nic}…</p>;
  return (
    <div className="card" data-testid="firewall-editor" data-vm={vm} data-nic={nic} data-busy={busy} data-dirty={dirty}>
      <h2>Firewall of {vm} · {nic}</h2>
      <p className="muted small">Rules apply in order; the first that matches decides, then the default policy. Replies to allowed connections always pass, and so does DHCP. {fw.live ? 'The VM runs: a save applies at once.' : 'The VM does not run: the rules apply when it starts.'}</p>
      <div className="row wrap">
        {(['in', 'out'] as const).map((dir) => (
          <div className="field" key={dir}>
            <label htmlFor={`fw-default-${dir}`}>Default {dir === 'in' ? 'inbound (to the guest)' : 'outbound (from the guest)'}</label>
            <select id={`fw-default-${dir}`} name={`default-${dir}`} disabled={!mayEdit} value={defaults[dir]} onChange={(e) => { setDefaults((d) => ({ ...d, [dir]: e.target.value as Policy })); setDirty(true); }}>
              <option value="accept">accept</option><option value="drop">drop</option>
            </select>
          </div>
        ))}
      </div>
      {rules.length === 0 ? <p className="muted" data-testid="firewall-no-rules">No rules.</p> : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label={`Firewall rules of ${vm} ${nic}`}><table className="table" data-testid="firewall-rules">
          <thead><tr><th>#</th><th>Direction</th><th>Protocol</th><th>Port</th><th>Peer</th><th>Action</th><th><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>{rules.map((r, i) => (
            <tr key={i} data-rule={i}>
              <td className="num">{i + 1}</td><td>{r.direction}</td><td>{r.protocol}</td><td className="num">{portText(r.port)}</td><td className="num">{r.peer ?? 'any'}</td><td>{r.action}</td>
              <td>{mayEdit && <button type="button" className="danger-outline" aria-label={`remove rule ${i + 1}`} onClick={() => { setRules((x) => x.filter((_, j) => j !== i)); setDirty(true); }}>remove</button>}</td>
            </tr>
          ))}</tbody>
        </table></div>
      )}
      {mayEdit && (
        <form className="row wrap" aria-label="Add a firewall rule" onSubmit={add}>
          <div className="field"><label htmlFor="fw-dir">Direction</label><select id="fw-dir" name="direction" value={draft.direction} onChange={(e) => setDraft({ ...draft, direction: e.target.value })}><option value="in">in</option><option value="out">out</option></select></div>
          <div className="field"><label htmlFor="fw-proto">Protocol</label><select id="fw-proto" name="protocol" value={draft.protocol} onChange={(e) => setDraft({ ...draft, protocol: e.target.value })}>{['tcp', 'udp', 'icmp', 'any'].map((p) => <option key={p} value={p}>{p}</option>)}</select></div>
          <div className="field"><label htmlFor="fw-port">Port or range (tcp/udp; empty: any)</label><input id="fw-port" name="port" inputMode="numeric" placeholder="8080 or 8000-8099" disabled={draft.protocol !== 'tcp' && draft.protocol !== 'udp'} value={draft.port} onChange={(e) => setDraft({ ...draft, port: e.target.value })} /></div>
          <div className="field"><label htmlFor="fw-peer">Peer address or CIDR (empty: any)</label><input id="fw-peer" name="peer" placeholder="10.123.0.0/24" value={draft.peer} onChange={(e) => setDraft({ ...draft, peer: e.target.value })} /></div>
          <div className="field"><label htmlFor="fw-action">Action</label><select id="fw-action" name="action" value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value })}><option value="drop">drop</option><option value="accept">accept</option></select></div>
          <div className="row end"><button type="submit">Add rule</button></div>
        </form>
      )}
      {error && <p className="error" role="alert" data-testid="firewall-error">{error}</p>}
      {mayEdit && <div className="row end"><button type="button" className="primary" data-testid="firewall-save" disabled={busy || !dirty} onClick={() => void save()}>Save</button></div>}
    </div>
  );
}
