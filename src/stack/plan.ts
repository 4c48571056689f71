/**
 * The planner: the desired state of a stack against what exists, as
 * Terraform would say it — create, update in place, update with restart,
 * replace, delete, start — each with the fields that cause it. A name held
 * by an object the stack does not own is a conflict: the plan is refused
 * and nothing is changed. Pure.
 */
import { fail } from '../shared/index.js';
import { STACK_ACTIONS, formatSize, type NetworkConfig, type StackAction, type StackChangeView, type StackFieldChange, type StackPlanView, type VmSpec, type VmState } from '../spec/index.js';
import { ownedBy } from './ownership.js';
import type { DesiredStack, DesiredVm } from './resolve.js';

export interface ActualVm {
  name: string;
  spec: VmSpec;
  state: VmState;
}

export interface ActualNetwork {
  name: string;
  config: NetworkConfig;
  /** The stack's record lists it. */
  owned: boolean;
}

export interface ActualVolume {
  pool: string;
  name: string;
  sizeBytes: number;
  format: string;
  owned: boolean;
}

/** What exists: every VM, network and volume the stack owns or whose name it wants. */
export interface ActualState {
  vms: ActualVm[];
  networks: ActualNetwork[];
  volumes: ActualVolume[];
}

/** Top-level spec fields a running VM takes without a restart. */
const IN_PLACE = new Set(['description', 'labels']);
/** Fields whose change means a new VM (its disk files exist already). */
const REPLACE = new Set(['disks']);
const RUNNING = new Set<VmState>(['running', 'paused', 'starting']);

const short = (v: unknown, field: string): string | null => {
  if (v === undefined || v === null) return null;
  if (field === 'memory' && typeof v === 'number') return formatSize(v);
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/** The leaf fields where `a` and `b` differ, by dotted path (arrays compared whole). */
export function diffFields(a: unknown, b: unknown, path = ''): StackFieldChange[] {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    if (path === '' && JSON.stringify(a) === JSON.stringify(b)) return [];
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffFields(a[k], b[k], path === '' ? k : `${path}.${k}`));
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  return [{ field: path, from: short(a, path), to: short(b, path) }];
}

const top = (f: StackFieldChange): string => f.field.split('.')[0]!;

function planVm(d: DesiredVm, a: ActualVm | undefined): StackChangeView {
  const base = { kind: 'vm' as const, member: d.member, name: d.name };
  if (!a) return { ...base, action: 'create', fields: [], reason: 'no VM of this name exists' };
  const fields = diffFields(a.spec, d.spec);
  const running = RUNNING.has(a.state);
  if (fields.some((f) => REPLACE.has(top(f)))) {
    return { ...base, action: 'replace', fields, reason: `${fields.filter((f) => REPLACE.has(top(f))).map((f) => f.field).join(', ')} cannot change on an existing VM: it is removed and made again (its disks go)` };
  }
  if (fields.length === 0) {
    return running ? { ...base, action: 'noop', fields, reason: 'as wanted' } : { ...base, action: 'start', fields, reason: `it is ${a.state}` };
  }
  const needsRestart = fields.filter((f) => !IN_PLACE.has(top(f)));
  if (needsRestart.length > 0 && running) {
    return { ...base, action: 'update-restart', fields, reason: `QEMU starts again to apply ${needsRestart.map((f) => f.field).join(', ')}` };
  }
  return { ...base, action: 'update', fields, reason: running ? 'labels and description change without a restart' : `it is ${a.state}: the spec is saved, then it starts` };
}

/** Compares the fields the stack file gives (the rest are the network service's defaults). */
function planNetwork(d: DesiredStack['networks'][number], a: ActualNetwork | undefined): StackChangeView {
  const base = { kind: 'network' as const, member: d.member, name: d.name };
  if (!a) return { ...base, action: 'create', fields: [], reason: 'no network of this name exists' };
  const wanted: Record<string, unknown> = {};
  const have: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d.request)) {
    if (v === undefined || k === 'name') continue;
    wanted[k] = v;
    have[k] = (a.config as unknown as Record<string, unknown>)[k];
  }
  const fields = diffFields(have, wanted);
  if (fields.length === 0) return { ...base, action: 'noop', fields, reason: 'as wanted' };
  return { ...base, action: 'replace', fields, reason: 'a network does not change in place: it is removed (once no VM uses it) and made again' };
}

function planVolume(d: DesiredStack['volumes'][number], a: ActualVolume | undefined): StackChangeView {
  const base = { kind: 'volume' as const, member: d.member, name: d.name };
  if (!a) return { ...base, action: 'create', fields: [], reason: `no volume ${d.name} in pool ${d.pool}` };
  const fields: StackFieldChange[] = [];
  if (a.format !== d.format) fields.push({ field: 'format', from: a.format, to: d.format });
  if (a.sizeBytes !== d.sizeBytes) fields.push({ field: 'size', from: formatSize(a.sizeBytes), to: formatSize(d.sizeBytes) });
  if (fields.length === 0) return { ...base, action: 'noop', fields, reason: 'as wanted' };
  if (a.format === d.format && d.sizeBytes > a.sizeBytes) return { ...base, action: 'update', fields, reason: 'grown in place' };
  return { ...base, action: 'replace', fields, reason: d.sizeBytes < a.sizeBytes ? 'a volume cannot shrink: it is made again (its data goes)' : 'a new format means a new volume (its data goes)' };
}

export function summarize(changes: readonly StackChangeView[]): Record<StackAction, number> {
  const s = Object.fromEntries(STACK_ACTIONS.map((a) => [a, 0])) as Record<StackAction, number>;
  for (const c of changes) s[c.action] += 1;
  return s;
}

/** The plan of `desired` against `actual`. Throws STACK_CONFLICT when a wanted name is held by an object the stack does not own. */
export function planStack(desired: DesiredStack, actual: ActualState): StackPlanView {
  const vms = new Map(actual.vms.map((v) => [v.name, v]));
  const nets = new Map(actual.networks.map((n) => [n.name, n]));
  const vols = new Map(actual.volumes.map((v) => [`${v.pool}/${v.name}`, v]));
  const conflicts: string[] = [];
  for (const d of desired.vms) {
    const a = vms.get(d.name);
    if (a && !ownedBy(a.spec, desired.name)) conflicts.push(`VM ${d.name} exists and is not the stack's (label ${'polyvisor.stack'}=${a.spec.labels['polyvisor.stack'] ?? '(none)'})`);
  }
  for (const d of desired.networks) if (nets.get(d.name)?.owned === false) conflicts.push(`network ${d.name} exists and is not the stack's`);
  for (const d of desired.volumes) if (vols.get(`${d.pool}/${d.name}`)?.owned === false) conflicts.push(`volume ${d.pool}/${d.name} exists and is not the stack's`);
  if (conflicts.length > 0) fail('STACK_CONFLICT', `stack ${desired.name}: ${conflicts.join('; ')}`, { details: conflicts });

  const rank = new Map<string, number>();
  desired.graph.order.forEach((level, i) => level.forEach((m) => rank.set(m, i)));
  const byOrder = (a: StackChangeView, b: StackChangeView): number => (rank.get(a.member) ?? 0) - (rank.get(b.member) ?? 0) || a.name.localeCompare(b.name);
  const changes: StackChangeView[] = [
    ...desired.networks.map((d) => planNetwork(d, nets.get(d.name))),
    ...desired.volumes.map((d) => planVolume(d, vols.get(`${d.pool}/${d.name}`))),
    ...desired.vms.map((d) => planVm(d, vms.get(d.name))),
  ].sort(byOrder);

  const wantedVms = new Set(desired.vms.map((v) => v.name));
  const wantedNets = new Set(desired.networks.map((n) => n.name));
  const wantedVols = new Set(desired.volumes.map((v) => `${v.pool}/${v.name}`));
  const deletes: StackChangeView[] = [
    ...actual.vms.filter((v) => ownedBy(v.spec, desired.name) && !wantedVms.has(v.name))
      .map((v) => ({ kind: 'vm' as const, member: v.spec.labels['polyvisor.stack.member'] ?? '', name: v.name })),
    ...actual.volumes.filter((v) => v.owned && !wantedVols.has(`${v.pool}/${v.name}`)).map((v) => ({ kind: 'volume' as const, member: v.name, name: v.name })),
    ...actual.networks.filter((n) => n.owned && !wantedNets.has(n.name)).map((n) => ({ kind: 'network' as const, member: n.name, name: n.name })),
  ].map((x) => ({ ...x, action: 'delete' as const, fields: [], reason: 'the stack owns it and the file no longer names it' }));
  const all = [...changes, ...deletes];
  return { stack: desired.name, changes: all, summary: summarize(all), order: desired.graph.order };
}
