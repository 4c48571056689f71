import { useState, type FormEvent } from 'react';
import { api, errorText, token } from '../api/client.js';
import type { WhoamiView } from '../api/types.js';

export function Login({ onIn }: { onIn: (me: WhoamiView) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError('');
    token.set(value.trim());
    try {
      onIn(await api<WhoamiView>('GET', '/v1/whoami'));
    } catch (err) {
      token.clear();
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Polyvisor</h1>
        <label htmlFor="token">API token</label>
        <input id="token" name="token" type="password" autoComplete="current-password" autoFocus required value={value} onChange={(e) => setValue(e.target.value)} placeholder="pvt_…" />
        <p className="muted small">Make one with <code>polyvisor token create NAME --role viewer|operator|admin</code>. It stays in this browser until you log out.</p>
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" className="primary" disabled={busy}>Log in</button>
      </form>
    </main>
  );
}
