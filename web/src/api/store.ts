/**
 * The UI's live state: VMs, operations and recent events from the event
 * stream (a WebSocket on /v1/events), resource history from the stats stream
 * (/v1/stats pushed every few seconds). Nothing here polls: the lists are read
 * once per (re)connection, then kept current by events.
 */
import { useSyncExternalStore } from 'react';
import { api, enc, openSocket } from './client.js';
import type { EventView, HealthView, OperationView, StatsView, VmView, WhoamiView } from './types.js';

export const HISTORY = 40;

/** Per VM: CPU as a fraction of its vCPUs, memory as bytes resident, disk and network as bytes per second. */
/** Live figures of a VM; `guest` is the memory the guest reports in use (null: it did not report). */
export interface Rates { cpu: number[]; mem: number[]; disk: number[]; net: number[]; guest: number | null }
export interface HostRates { cpu: number[]; mem: number[]; memUsed: number; memTotal: number; cpus: number; load: number }

export interface State {
  me: WhoamiView | null;
  health: HealthView | null;
  vms: ReadonlyMap<string, VmView>;
  loaded: boolean;
  ops: ReadonlyMap<string, OperationView>;
  events: readonly EventView[];
  rates: ReadonlyMap<string, Rates>;
  host: HostRates | null;
  live: 'connecting' | 'live' | 'offline';
  /** "VM/snapshots" or "VM/backups" → a counter bumped by each change event, for pages to re-read on. */
  contents: ReadonlyMap<string, number>;
}

let state: State = { me: null, health: null, vms: new Map(), loaded: false, ops: new Map(), events: [], rates: new Map(), host: null, live: 'connecting', contents: new Map() };
const subs = new Set<() => void>();

function set(patch: Partial<State>): void {
  state = { ...state, ...patch };
  for (const s of subs) s();
}

export function useStore<T>(pick: (s: State) => T): T {
  return useSyncExternalStore((fn) => {
    subs.add(fn);
    return () => subs.delete(fn);
  }, () => pick(state));
}
export const getState = (): State => state;

export function can(permission: string): boolean {
  return state.me?.permissions.includes(permission) ?? false;
}
export function useCan(permission: string): boolean {
  return useStore((s) => s.me?.permissions.includes(permission) ?? false);
}

/** Changes whenever the VM's snapshots or backups change (from any client): a dependency for re-reading them. */
export function useContentVersion(vm: string, what: 'snapshots' | 'backups'): number {
  return useStore((s) => s.contents.get(`${vm}/${what}`) ?? 0);
}

export function putVm(vm: VmView): void {
  const vms = new Map(state.vms);
  vms.set(vm.name, vm);
  set({ vms });
}
function dropVm(name: string): void {
  const vms = new Map(state.vms);
  vms.delete(name);
  set({ vms });
}
function putOp(op: OperationView): void {
  const ops = new Map(state.ops);
  ops.set(op.id, op);
  if (ops.size > 300) for (const k of [...ops.keys()].slice(0, ops.size - 300)) ops.delete(k);
  set({ ops });
}

const refreshing = new Set<string>();
const again = new Set<string>();
/**
 * Re-reads one VM after an event about it (its allowed actions and runtime follow its state).
 * A request while a read is in flight reads once more after it: the answer in flight may predate the
 * event (a kill's "stopped" overwritten by a slow read that still said "running").
 */
export async function refreshVm(name: string): Promise<void> {
  if (refreshing.has(name)) {
    again.add(name);
    return;
  }
  refreshing.add(name);
  try {
    do {
      again.delete(name);
      try {
        putVm(await api<VmView>('GET', `/v1/vms/${enc(name)}`));
      } catch {
        // removed meanwhile: its vm.removed event follows
      }
    } while (again.has(name));
  } finally {
    refreshing.delete(name);
  }
}

function apply(e: EventView): void {
  set({ events: [...state.events.slice(-199), e] });
  if (e.type === 'vm.removed') return dropVm(e.vm);
  if (e.type === 'operation') return putOp(e.operation);
  if (e.type === 'vm.snapshots' || e.type === 'vm.backups') {
    const key = `${e.vm}/${e.type.slice(3)}`;
    set({ contents: new Map(state.contents).set(key, (state.contents.get(key) ?? 0) + 1) });
    return void refreshVm(e.vm); // an external snapshot or a revert also changes the VM's disks
  }
  const cur = state.vms.get(e.vm);
  if (cur) putVm({ ...cur, state: e.to as VmView['state'], stateReason: e.reason });
  void refreshVm(e.vm);
}

/** True when a fresh list says what the store holds: keeping the store's map spares every VM view a render (the second read at start). */
function sameVms(have: ReadonlyMap<string, VmView>, fresh: readonly VmView[]): boolean {
  return have.size === fresh.length && fresh.every((v) => {
    const h = have.get(v.name);
    return h !== undefined && JSON.stringify(h) === JSON.stringify(v);
  });
}

/** Answers of list reads are applied newest request first: a slow early read never overwrites a later one. */
let loadSeq = 0;
let appliedSeq = 0;
async function loadAll(): Promise<void> {
  const mine = ++loadSeq;
  const [vms, ops, health] = await Promise.all([
    api<VmView[]>('GET', '/v1/vms'),
    state.me?.permissions.includes('operation:read') ? api<OperationView[]>('GET', '/v1/operations') : Promise.resolve([]),
    api<HealthView>('GET', '/v1/health'),
  ]);
  if (mine < appliedSeq) return;
  appliedSeq = mine;
  set({ vms: sameVms(state.vms, vms) ? state.vms : new Map(vms.map((v) => [v.name, v])), ops: new Map(ops.reverse().map((o) => [o.id, o])), health, loaded: true });
}

let prev: StatsView | null = null;
function applyStats(s: StatsView): void {
  const p = prev;
  prev = s;
  if (!p) return;
  const dt = (Date.parse(s.at) - Date.parse(p.at)) / 1000;
  if (!(dt > 0)) return;
  const rates = new Map(state.rates);
  const before = new Map(p.vms.map((v) => [v.name, v]));
  for (const v of s.vms) {
    const b = before.get(v.name);
    const r = rates.get(v.name) ?? { cpu: [], mem: [], disk: [], net: [], guest: null };
    const st = v.stats;
    const bs = b?.stats;
    const cpu = st?.cpuSeconds != null && bs?.cpuSeconds != null ? Math.max(0, (st.cpuSeconds - bs.cpuSeconds) / dt / Math.max(1, v.vcpus)) : 0;
    const mem = st?.rssBytes ?? 0; // the QEMU process's resident memory: guest RAM it touched plus QEMU's own
    const sum = (xs: Array<{ a: number }>): number => xs.reduce((n, x) => n + x.a, 0);
    const disk = st && bs ? Math.max(0, sum(st.disks.map((d) => ({ a: d.readBytes + d.writeBytes }))) - sum(bs.disks.map((d) => ({ a: d.readBytes + d.writeBytes })))) / dt : 0;
    const net = st && bs ? Math.max(0, sum(st.nics.map((n) => ({ a: n.rxBytes + n.txBytes }))) - sum(bs.nics.map((n) => ({ a: n.rxBytes + n.txBytes })))) / dt : 0;
    rates.set(v.name, { cpu: push(r.cpu, cpu), mem: push(r.mem, mem), disk: push(r.disk, disk), net: push(r.net, net), guest: st?.guestMemory?.usedBytes ?? null });
  }
  const busy = (h: StatsView['host']): number => Object.entries(h.cpuSeconds).filter(([k]) => k !== 'idle' && k !== 'iowait').reduce((n, [, x]) => n + x, 0);
  const hostCpu = Math.max(0, Math.min(1, (busy(s.host) - busy(p.host)) / dt / Math.max(1, s.host.cpus)));
  const used = s.host.memTotalBytes - s.host.memAvailableBytes;
  const h = state.host;
  set({
    rates,
    host: { cpu: push(h?.cpu ?? [], hostCpu), mem: push(h?.mem ?? [], used / Math.max(1, s.host.memTotalBytes)), memUsed: used, memTotal: s.host.memTotalBytes, cpus: s.host.cpus, load: s.host.load[0] },
  });
}
function push(xs: number[], x: number): number[] {
  return [...xs.slice(-(HISTORY - 1)), x];
}

let sockets: WebSocket[] = [];
let stopped = true;

/** Opens the event and stats streams; reconnects with a growing delay, and re-reads the lists on each connection. */
export function startLive(): void {
  stopped = false;
  const connect = (path: string, onMessage: (data: unknown) => void, onOpen: () => void, delay = 500): void => {
    if (stopped) return;
    const ws = openSocket(path);
    sockets.push(ws);
    let opened = false;
    ws.onopen = () => {
      opened = true;
      onOpen();
    };
    ws.onmessage = (m) => onMessage(JSON.parse(String(m.data)));
    ws.onclose = () => {
      sockets = sockets.filter((s) => s !== ws);
      if (path === '/v1/events') set({ live: 'offline' });
      // Refused before it opened: ask once over HTTP, whose 401 (a revoked token) logs out.
      if (!opened && !stopped) void api('GET', '/v1/whoami').catch(() => undefined);
      if (!stopped) setTimeout(() => connect(path, onMessage, onOpen, opened ? 500 : Math.min(delay * 2, 10_000)), delay);
    };
  };
  connect('/v1/events', (e) => apply(e as EventView), () => {
    set({ live: 'live' });
    void loadAll().catch(() => undefined);
  });
  if (state.me?.permissions.includes('metrics:read')) connect('/v1/stats?interval=3', (s) => applyStats(s as StatsView), () => { prev = null; });
}

export function stopLive(): void {
  stopped = true;
  for (const s of sockets) s.close();
  sockets = [];
  prev = null;
  set({ vms: new Map(), ops: new Map(), events: [], rates: new Map(), host: null, loaded: false, live: 'connecting', me: null });
}

export function setMe(me: WhoamiView | null): void {
  set({ me });
}
