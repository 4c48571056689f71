/**
 * What the cluster page shows of a host (GET /v1/hosts), as pure functions:
 * its capacity bars (CPU and memory allocated of capacity, as `polyvisor
 * host list` counts them) and which host actions the caller may take, with
 * the reason when not (the API's permission, or the host's state).
 */
import type { HostView } from '../../../../src/spec/host-views.js';

export interface Bar {
  label: string;
  used: number;
  total: number;
  /** 0-100, rounded; above 100 when overcommitted. */
  percent: number;
  text: string;
}

const GiB = 1024 ** 3;
const gib = (n: number): string => `${+(n / GiB).toFixed(1)} GiB`;
const pct = (used: number, total: number): number => (total > 0 ? Math.round((used / total) * 100) : 0);

export function capacityBars(h: Pick<HostView, 'capacity' | 'allocated'>): Bar[] {
  return [
    { label: 'CPU', used: h.allocated.cpus, total: h.capacity.cpus, percent: pct(h.allocated.cpus, h.capacity.cpus), text: `${h.allocated.cpus} of ${h.capacity.cpus} CPUs` },
    { label: 'Memory', used: h.allocated.memoryBytes, total: h.capacity.memoryBytes, percent: pct(h.allocated.memoryBytes, h.capacity.memoryBytes), text: `${gib(h.allocated.memoryBytes)} of ${gib(h.capacity.memoryBytes)}` },
  ];
}

export type HostAction = 'cordon' | 'uncordon' | 'drain';

export interface ActionState {
  action: HostAction;
  enabled: boolean;
  /** Why not, when disabled. */
  why: string;
}

/** The three host buttons: host:admin (admins) may use them, on a host whose state allows it. */
export function hostActions(h: Pick<HostView, 'name' | 'state'>, o: { canAdmin: boolean; clustered: boolean }): ActionState[] {
  const perm = 'needs the host:admin permission (role admin)';
  const out = (action: HostAction, allowed: boolean, stateWhy: string): ActionState => {
    if (!o.clustered) return { action, enabled: false, why: 'this daemon runs on one host: cordon and drain need a cluster (polyvisor cluster init)' };
    if (!o.canAdmin) return { action, enabled: false, why: perm };
    return allowed ? { action, enabled: true, why: '' } : { action, enabled: false, why: stateWhy };
  };
  return [
    out('cordon', h.state === 'ready', `${h.name} is ${h.state}`),
    out('uncordon', h.state === 'cordoned' || h.state === 'drained' || h.state === 'draining', `${h.name} is ${h.state}, not cordoned`),
    out('drain', h.state !== 'down' && h.state !== 'draining', h.state === 'down' ? `${h.name} is down: HA restarts its HA VMs` : `${h.name} is already draining`),
  ];
}
