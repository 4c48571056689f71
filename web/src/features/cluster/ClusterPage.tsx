/**
 * /cluster: every host (GET /v1/hosts) with its state, capacity bars and VMs
 * (every host's, from GET /v1/vms?hosts=all; from a daemon without it, this
 * host's by name and another host's as a count),
 * and the cordon, uncordon and drain buttons (host:admin; others see why
 * not). Read again every 2 s while a host drains, and after each action.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client.js';
import { useCan, useStore } from '../../api/store.js';
import type { HostView } from '../../../../src/spec/host-views.js';
import type { VmView } from '../../api/types.js';
import type { HostAction } from './capacity.js';
import { HostCard } from './HostCard.js';

export default function ClusterPage() {
  const [hosts, setHosts] = useState<HostView[] | null>(null);
  const [clusterVms, setClusterVms] = useState<VmView[] | null>(null);
  const [error, setError] = useState('');
  const vms = useStore((s) => s.vms);
  const canAdmin = useCan('host:admin');
  const canMigrate = useCan('vm:migrate');
  const [notice, setNotice] = useState('');
  const reload = useCallback(async () => {
    try {
      setHosts(await api<HostView[]>('GET', '/v1/hosts'));
      setClusterVms(await api<VmView[]>('GET', '/v1/vms?hosts=all').catch(() => null)); // an older daemon: this host's VMs only
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
    for (const v of [...(clusterVms ?? vms.values())].sort((a, b) => a.name.localeCompare(b.name))) m.set(v.host, [...(m.get(v.host) ?? []), { name: v.name, state: v.state }]);
    return m;
  }, [vms, clusterVms]);
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
  const move = async (vm: string, to: string) => {
    setError('');
    setNotice(`moving ${vm} to ${to}…`);
    try {
      // The VM's owner carries it out (a member forwards the request there and relays the answer when the move ends;
      // an async operation would live on the owner, not on the host this page talks to).
      await api('POST', `/v1/vms/${encodeURIComponent(vm)}/migrate`, { host: to });
      setNotice(`${vm} moved to ${to}`);
    } catch (err) {
      setNotice('');
      setError(err instanceof Error ? err.message : String(err));
    }
    await reload();
  };
  const ready = (hosts ?? []).filter((h) => h.state === 'ready').map((h) => h.name);
  return (
    <div className="cluster-page">
      <h2>Cluster</h2>
      {error ? <p role="alert">{error}</p> : null}
      {notice ? <p role="status">{notice}</p> : null}
      {hosts === null ? <p>loading…</p> : hosts.map((h) => (
        <HostCard key={h.name} host={h} vms={h.self || clusterVms ? byHost.get(h.name) ?? [] : null} canAdmin={canAdmin} clustered={clustered} onAction={(a) => void act(h.name, a)}
          move={{ targets: ready.filter((n) => n !== h.name), canMigrate, onMove: (vm, to) => void move(vm, to) }} />
      ))}
    </div>
  );
}
