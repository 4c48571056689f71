/**
 * /cluster: every host (GET /v1/hosts) with its state, capacity bars and VMs,
 * and the cordon, uncordon and drain buttons (host:admin; others see why
 * not). Read again every 2 s while a host drains, and after each action.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client.js';
import { useCan, useStore } from '../../api/store.js';
import type { HostView } from '../../../../src/spec/host-views.js';
import type { HostAction } from './capacity.js';
import { HostCard } from './HostCard.js';

export default function ClusterPage() {
  const [hosts, setHosts] = useState<HostView[] | null>(null);
  const [error, setError] = useState('');
  const vms = useStore((s) => s.vms);
  const canAdmin = useCan('host:admin');
  const reload = useCallback(async () => {
    try {
      setHosts(await api<HostView[]>('GET', '/v1/hosts'));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }, []);
  useEffect(() => { void reload(); }, [reload, vms]);
  const draining = hosts?.some((h) => h.state === 'draining') ?? false;
  useEffect(() => {
    if (!draining) return undefined;
    const t = setInterval(() => void reload(), 2000);
    return () => clearInterval(t);
  }, [draining, reload]);
  const byHost = useMemo(() => {
    const m = new Map<string, Array<{ name: string; state: string }>>();
    for (const v of [...vms.values()].sort((a, b) => a.name.localeCompare(b.name))) m.set(v.host, [...(m.get(v.host) ?? []), { name: v.name, state: v.state }]);
    return m;
  }, [vms]);
  const clustered = hosts?.some((h) => h.leaseAgeSeconds !== null || !h.self) ?? false;
  const act = async (host: string, a: HostAction) => {
    setError('');
    try {
      await api('POST', `/v1/hosts/${encodeURIComponent(host)}/${a}`);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
    await reload();
  };
  return (
    <div className="cluster-page">
      <h2>Cluster</h2>
      {error ? <p role="alert">{error}</p> : null}
      {hosts === null ? <p>loading…</p> : hosts.map((h) => (
        <HostCard key={h.name} host={h} vms={byHost.get(h.name) ?? []} canAdmin={canAdmin} clustered={clustered} onAction={(a) => void act(h.name, a)} />
      ))}
    </div>
  );
}
