/** Storage pools with their usage, and the image library with checksum state and import progress. */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, errorText, headers } from '../api/client.js';
import { useCan } from '../api/store.js';
import type { ErrorBody, ImageView, PoolView } from '../api/types.js';
import { bytes, when } from '../format.js';
import { useQuery } from '../router.js';

export default function Storage() {
  const [pools, setPools] = useState<PoolView[] | null>(null);
  const [images, setImages] = useState<ImageView[] | null>(null);
  const [error, setError] = useState('');
  const picked = useQuery('pool');
  const load = useCallback(() => {
    api<PoolView[]>('GET', '/v1/pools').then(setPools, (e: unknown) => setError(errorText(e)));
    api<ImageView[]>('GET', '/v1/images').then(setImages, (e: unknown) => setError(errorText(e)));
  }, []);
  useEffect(load, [load]);
  return (
    <>
      <h1>Storage</h1>
      {error && <p className="error" role="alert">{error}</p>}
      <section className="card" aria-labelledby="pools-title">
        <h2 id="pools-title">Pools</h2>
        {!pools ? <p className="muted">Loading…</p> : pools.length === 0 ? <p className="muted">No pools.</p> : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Pools table"><table>
            <thead><tr><th>Name</th><th>Kind</th><th>Path</th><th className="r">Volumes</th><th>Usage</th></tr></thead>
            <tbody>{pools.map((p) => (
              <tr key={p.name} data-pool={p.name} className={picked === p.name ? 'picked' : undefined} aria-current={picked === p.name ? 'true' : undefined}>
                <td>{p.name}{p.default && <span className="tag">default</span>}</td><td>{p.kind}</td><td className="mono small">{p.path}</td><td className="r num">{p.volumes}</td>
                <td><meter min={0} max={p.capacityBytes || 1} value={p.usedBytes} high={(p.capacityBytes || 1) * 0.85} aria-label={`${p.name} usage`} />
                  <span className="num small"> {bytes(p.usedBytes)} of {bytes(p.capacityBytes)} used · volumes hold {bytes(p.allocatedBytes)}</span></td>
              </tr>
            ))}</tbody>
          </table></div>
        )}
      </section>
      <section className="card" aria-labelledby="images-title">
        <h2 id="images-title">Image library</h2>
        <ImportForm onDone={load} />
        {!images ? <p className="muted">Loading…</p> : images.length === 0 ? <p className="muted">No images yet.</p> : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Image library table"><table>
            <thead><tr><th>Name</th><th>Kind</th><th>Format</th><th className="r">Size</th><th>Checksum</th><th>Imported</th></tr></thead>
            <tbody>{images.map((i) => (
              <tr key={i.name}>
                <td>{i.name}</td><td>{i.kind}</td><td>{i.format}</td><td className="r num">{bytes(i.sizeBytes)}</td>
                <td>{i.verified ? <span className="ok">✓ verified <span className="mono small muted">{checksumText(i.checksum).slice(0, 19)}…</span></span> : <span className="warn">not verified (imported without a checksum)</span>}</td>
                <td className="small">{when(i.importedAt)}</td>
              </tr>
            ))}</tbody>
          </table></div>
        )}
      </section>
    </>
  );
}

function checksumText(c: ImageView['checksum']): string {
  return c ? `${c.algorithm}:${c.hex}` : '';
}

/** POST /v1/images?progress=ndjson: the daemon streams progress lines, then the result or the error. */
function ImportForm({ onDone }: { onDone: () => void }) {
  const allowed = useCan('storage:write');
  const [name, setName] = useState('');
  const [source, setSource] = useState('');
  const [checksum, setChecksum] = useState('');
  const [progress, setProgress] = useState<number | null>(null);
  const [phase, setPhase] = useState('');
  const [error, setError] = useState('');
  if (!allowed) return null;
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setError('');
    setProgress(0);
    const isUrl = /^https?:\/\//.test(source);
    try {
      const res = await fetch('/v1/images?progress=ndjson', {
        method: 'POST', headers: { ...headers(true), accept: 'application/x-ndjson' },
        body: JSON.stringify({ name, ...(isUrl ? { url: source } : { path: source }), ...(checksum ? { checksum } : {}) }),
      });
      if (!res.ok || !res.body) throw new ApiError(res.status, (await res.json()) as ErrorBody);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const msg = JSON.parse(line) as { progress?: { fraction?: number; phase?: string }; error?: ErrorBody };
          if (msg.progress) {
            if (msg.progress.fraction !== undefined) setProgress(msg.progress.fraction);
            if (msg.progress.phase) setPhase(msg.progress.phase);
          }
          if (msg.error) throw new ApiError(500, msg.error);
        }
      }
      setProgress(1);
      setName('');
      setSource('');
      setChecksum('');
      onDone();
    } catch (err) {
      setError(errorText(err));
      setProgress(null);
    }
  };
  return (
    <form className="row wrap" onSubmit={(e) => void submit(e)} aria-label="Import an image">
      <label>Name <input required value={name} onChange={(e) => setName(e.target.value)} /></label>
      <label>URL or host path <input required value={source} onChange={(e) => setSource(e.target.value)} placeholder="https://… or /var/lib/…" /></label>
      <label>Checksum <input value={checksum} onChange={(e) => setChecksum(e.target.value)} placeholder="sha256:…" /></label>
      <button type="submit" className="primary" disabled={progress !== null && progress < 1}>Import</button>
      {progress !== null && <span className="progress-line"><progress max={1} value={progress} aria-label="import progress" /> <span className="num small">{Math.round(progress * 100)}% {phase}</span></span>}
      {error && <p className="error" role="alert">{error}</p>}
    </form>
  );
}
