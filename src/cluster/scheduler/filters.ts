/**
 * The filters, each a small named function: a host passes, or is rejected
 * with a reason that says what failed and by how much. They run in FILTERS
 * order; the tier filter runs after them (schedule.ts). Pure.
 */
import { formatRequirement, unmetRequirement } from './selector.js';
import { targetText } from './compiled-request.js';
import type { FilterFn } from './filter-fn.js';
import { devicesFilter } from './filters-devices.js';
import { hugepagesFilter, numaFilter } from './filters-topology.js';
import type { LiveHost } from './live-host.js';
import type { AffinityTarget, FilterName } from './types.js';

export type { FilterFn } from './filter-fn.js';

const GIB = 1024 ** 3;
const gib = (n: number): string => `${+(n / GIB).toFixed(2)} GiB`;
const cpu = (n: number): string => `${+n.toFixed(2)}`;

export const stateFilter: FilterFn = (_c, h) =>
  h.state === 'ready' ? undefined : `host is ${h.state}; only ready hosts take new VMs`;

function capacity(
  label: string, need: number, used: number, cap: number, ratio: number, fmt: (n: number) => string,
): string | undefined {
  const limit = cap * ratio;
  if (used + need <= limit) return undefined;
  return `needs ${fmt(need)} ${label}, ${fmt(Math.max(0, limit - used))} free of ${fmt(limit)} (${fmt(cap)} × overcommit ${ratio})`;
}

export const cpuFilter: FilterFn = (c, h, p) =>
  capacity('CPUs', c.req.cpus, h.cpus, h.capacity.cpus, p.overcommit.cpu, cpu);

export const memoryFilter: FilterFn = (c, h, p) =>
  capacity('memory', c.req.memoryBytes, h.memoryBytes, h.capacity.memoryBytes, p.overcommit.memory, gib);

export const diskFilter: FilterFn = (c, h, p) =>
  capacity('disk', c.req.diskBytes, h.diskBytes, h.capacity.diskBytes, p.overcommit.disk, gib);

export const selectorFilter: FilterFn = (c, h) => {
  const r = unmetRequirement(c.selector, h.labels);
  return r === undefined ? undefined : `labels do not meet ${formatRequirement(r)}`;
};

export const storageFilter: FilterFn = (c, h) => {
  const pool = c.req.storagePool;
  if (pool === undefined || h.storage.has(pool)) return undefined;
  return `does not reach storage pool ${pool}${h.storage.size ? ` (reaches ${[...h.storage].sort().join(', ')})` : ''}`;
};

export const poolFilter: FilterFn = (c, h) =>
  c.poolAllowed(h.pool)
    ? undefined
    : `host pool ${JSON.stringify(h.pool)} is not among the VM's pools (${(c.req.preferredPools ?? []).join(', ')})`;

/** How many of the host's VMs the target names (the VM itself never counts). */
export function matches(t: AffinityTarget, h: LiveHost, self: string): number {
  if ('vm' in t) return t.vm !== self && h.vms.has(t.vm) ? 1 : 0;
  const n = h.groups.get(t.group) ?? 0;
  return n;
}

export const affinityFilter: FilterFn = (c, h, _p, where) => {
  for (const t of c.mustBeWith) {
    if (matches(t, h, c.req.vm) > 0) continue;
    if ('vm' in t) {
      const at = where.hostOf(t.vm);
      return at === undefined ? `must run with VM ${t.vm}, which runs nowhere` : `must run with VM ${t.vm}, which runs on ${at}`;
    }
    // The first VM of a group may go anywhere (as in Kubernetes pod affinity).
    if (!where.groupPlaced(t.group) && c.groups.has(t.group)) continue;
    return where.groupPlaced(t.group)
      ? `must run with group ${t.group}, which has no VM here`
      : `must run with group ${t.group}, which has no VM anywhere`;
  }
  return undefined;
};

export const antiAffinityFilter: FilterFn = (c, h) => {
  for (const t of c.mustAvoid) {
    const n = matches(t, h, c.req.vm);
    if (n > 0) return `must not run with ${targetText(t)}${'group' in t ? ` (${n} of its VMs run here)` : ', which runs here'}`;
  }
  return undefined;
};

export const FILTERS: readonly (readonly [Exclude<FilterName, 'tier'>, FilterFn])[] = [
  ['state', stateFilter],
  ['cpu', cpuFilter],
  ['memory', memoryFilter],
  ['disk', diskFilter],
  ['selector', selectorFilter],
  ['storage', storageFilter],
  ['pool', poolFilter],
  ['numa', numaFilter],
  ['hugepages', hugepagesFilter],
  ['devices', devicesFilter],
  ['affinity', affinityFilter],
  ['anti-affinity', antiAffinityFilter],
];
