/** The guest tab: what the running guest says about itself through its agent (GET /v1/vms/NAME/guest), read again every 10 s. */
import { useEffect, useState } from 'react';
import { api, enc } from '../../api/client.js';
import type { GuestInfoView, VmView } from '../../api/types.js';
import { bytes, when } from '../../format.js';

const EVERY_MS = 10_000;

export function GuestInfo({ vm }: { vm: VmView }) {
  const on = vm.state === 'running' || vm.state === 'paused';
  const [info, setInfo] = useState<GuestInfoView | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    if (!on) return;
    let live = true;
    const read = (): void => {
      api<GuestInfoView>('GET', `/v1/vms/${enc(vm.name)}/guest`).then((g) => { if (live) { setInfo(g); setError(''); } }, (e: unknown) => { if (live) setError((e as Error).message); });
    };
    read();
    const t = setInterval(read, EVERY_MS);
    return () => { live = false; clearInterval(t); };
  }, [vm.name, on]);
  if (!on) return <p className="muted">The guest agent answers only while the VM runs.</p>;
  if (error) return <p className="error" role="alert">{error}</p>;
  if (!info) return <p className="muted">Asking the guest agent…</p>;
  const a = info.agent;
  return (
    <div className="grid2" data-testid="guest-info">
      <div className="card">
        <h2>Guest agent</h2>
        <dl className="kv">
          <dt>Heartbeat</dt><dd data-testid="agent-heartbeat">{a.responding ? `answering (${a.latencyMs} ms)` : `not answering: ${a.error ?? 'no reason given'}`}</dd>
          <dt>Agent version</dt><dd>{a.version ?? '—'}</dd>
          <dt>OS</dt><dd>{info.os?.prettyName ?? ([info.os?.id, info.os?.version].filter(Boolean).join(' ') || '—')}</dd>
          <dt>Kernel</dt><dd>{info.os?.kernelRelease ? `${info.os.kernelRelease}${info.os.machine ? ` (${info.os.machine})` : ''}` : '—'}</dd>
          <dt>Hostname</dt><dd data-testid="guest-hostname">{info.hostname ?? '—'}</dd>
          <dt>Clock</dt><dd>{info.clockSkewMs === null ? '—' : `${info.clockSkewMs >= 0 ? '+' : ''}${info.clockSkewMs} ms from the host`}</dd>
          <dt>Read</dt><dd>{when(info.readAt)}</dd>
        </dl>
        {info.missing.length > 0 && <p className="small muted">Not given by the agent: {info.missing.map((m) => m.part).join(', ')}.</p>}
      </div>
      <div className="card">
        <h2>Interfaces</h2>
        {info.interfaces.length === 0 ? <p className="muted">none reported</p> : (
          <table className="table"><thead><tr><th>Name</th><th>MAC</th><th>Addresses</th></tr></thead>
            <tbody>{info.interfaces.map((i) => <tr key={i.name}><td>{i.name}</td><td>{i.mac ?? '—'}</td><td>{i.addresses.map((x) => `${x.address}/${x.prefix}`).join(' ') || '—'}</td></tr>)}</tbody>
          </table>
        )}
        <h2>Filesystems</h2>
        {info.filesystems.length === 0 ? <p className="muted">none reported</p> : (
          <table className="table"><thead><tr><th>Mount</th><th>Type</th><th>Used</th><th>Size</th></tr></thead>
            <tbody>{info.filesystems.map((f) => <tr key={f.mountpoint}><td>{f.mountpoint}</td><td>{f.type}</td><td>{f.usedBytes === null ? '—' : bytes(f.usedBytes)}</td><td>{f.totalBytes === null ? '—' : bytes(f.totalBytes)}</td></tr>)}</tbody>
          </table>
        )}
      </div>
    </div>
  );
}
