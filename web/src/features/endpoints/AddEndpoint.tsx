/**
 * Add an endpoint (endpoint:admin): a name, a driver from GET /v1/drivers
 * (the live ones), its URL, and how it logs in — a user and password, an API
 * token, or nothing. The password or token is typed once: it goes to the
 * daemon, which proves the connection before keeping it (encrypted in its
 * secrets store) and never returns it; the field is emptied afterwards.
 */
import { useState, type FormEvent } from 'react';
import { api, ApiError, errorText } from '../../api/client.js';
import type { DriverView, EndpointView } from '../../api/types.js';
import { toast } from '../../components/Toasts.js';

type Login = 'password' | 'token' | 'none';

export function AddEndpoint({ drivers, onAdded }: { drivers: readonly DriverView[]; onAdded: () => void }) {
  const live = drivers.filter((d) => d.live && d.name !== 'qemu');
  const [name, setName] = useState('');
  const [driver, setDriver] = useState('');
  const [url, setUrl] = useState('');
  const [user, setUser] = useState('');
  const [login, setLogin] = useState<Login>('password');
  const [secret, setSecret] = useState('');
  const [ca, setCa] = useState('');
  const [insecure, setInsecure] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [fields, setFields] = useState<Array<{ field: string; message: string }>>([]);
  const chosen = live.find((d) => d.name === driver);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError('');
    setFields([]);
    try {
      const body = {
        name, driver, url,
        ...(user ? { user } : {}),
        ...(login === 'password' && secret ? { password: secret } : {}),
        ...(login === 'token' && secret ? { token: secret } : {}),
        ...(ca.trim() ? { ca } : {}),
        ...(insecure ? { insecure: true } : {}),
      };
      const ep = await api<EndpointView>('POST', '/v1/endpoints', body);
      toast(`endpoint ${ep.name} added: ${ep.status?.product ?? ep.driver}${ep.status?.version ? ` ${ep.status.version}` : ''}`);
      setName(''); setUrl(''); setUser(''); setCa(''); setInsecure(false);
      onAdded();
    } catch (err) {
      if (err instanceof ApiError) setFields(err.fields);
      setError(errorText(err));
    } finally {
      setSecret(''); // never kept in the page, whatever the answer
      setBusy(false);
    }
  };
  const msg = (f: string) => fields.filter((x) => x.field === f).map((x) => <span key={x.message} className="field-error" data-field={f}>{x.message}</span>);

  return (
    <form className="card create" onSubmit={(e) => void submit(e)} aria-labelledby="add-ep-title" data-testid="add-endpoint">
      <h2 id="add-ep-title">Add an endpoint</h2>
      <p className="muted small">The daemon connects first and keeps the endpoint only if that works; the password or token is stored encrypted and never shown again.</p>
      <div className="field"><label htmlFor="ep-name">Name</label><input id="ep-name" required value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />{msg('name')}</div>
      <div className="field"><label htmlFor="ep-driver">Driver</label>
        <select id="ep-driver" required value={driver} onChange={(e) => setDriver(e.target.value)}>
          <option value="">choose…</option>
          {live.map((d) => <option key={d.name} value={d.name}>{d.title} ({d.name})</option>)}
        </select>{msg('driver')}</div>
      <div className="field"><label htmlFor="ep-url">URL</label><input id="ep-url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder={chosen?.urlExample ?? ''} autoComplete="off" />{msg('url')}</div>
      <fieldset className="group"><legend>Log in with</legend>
        {([['password', 'a user and password'], ['token', 'an API token'], ['none', 'nothing (a local socket)']] as const).map(([v, l]) => (
          <label key={v} className="check"><input type="radio" name="ep-login" value={v} checked={login === v} onChange={() => setLogin(v)} /> {l}</label>
        ))}
      </fieldset>
      {login !== 'none' && <>
        <div className="field"><label htmlFor="ep-user">User</label><input id="ep-user" value={user} onChange={(e) => setUser(e.target.value)} autoComplete="off" />{msg('user')}</div>
        <div className="field"><label htmlFor="ep-secret">{login === 'token' ? 'API token' : 'Password'}</label>
          <input id="ep-secret" type="password" value={secret} onChange={(e) => setSecret(e.target.value)} autoComplete="new-password" />{msg(login)}</div>
      </>}
      <div className="field"><label htmlFor="ep-ca">CA certificate to trust (PEM; empty: the system's)</label><textarea id="ep-ca" rows={3} value={ca} onChange={(e) => setCa(e.target.value)} />{msg('ca')}</div>
      <label className="check"><input type="checkbox" checked={insecure} onChange={(e) => setInsecure(e.target.checked)} /> do not check the certificate (labs only)</label>
      {error && <p className="error" role="alert" data-testid="add-endpoint-error">{error}</p>}
      <div className="row end"><button type="submit" className="primary" disabled={busy}>{busy ? 'Connecting…' : 'Add'}</button></div>
    </form>
  );
}
