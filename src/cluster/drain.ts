/**
 * Draining a host (docs/cluster.md): `polyvisor host drain NAME`, sent to any
 * member, marks the host `draining` (`hosts-admin/NAME`, so it takes no new
 * VM and HA skips it) and opens its drain record (`drain/NAME`). The host
 * itself carries it out — only it runs its VMs' processes — in DrainRunner:
 * the scheduler places every VM it owns on the other ready hosts (capacity,
 * pools and groups as for HA restarts), then running and paused VMs move live,
 * stopped ones move offline or, when both hosts publish the same storage id
 * (a shared vmsDir), change owner; at most `concurrency` at once. Each VM's
 * progress is written to the record as it goes; one VM's failure is noted
 * and the others go on. At the end the host is `drained` (still cordoned),
 * or, when some VM could not leave, `cordoned` with the record saying why.
 */
import { fail, type Logger } from '../shared/index.js';
import type { DrainView, DrainVmView } from '../spec/index.js';
import type { ClusterKv, VmRecord } from '../store/index.js';
import { candidates } from './ha-manager.js';
import type { HostDirectory } from './host-directory.js';
import { clusterKeys } from './keys.js';
import type { PublishedHost } from './membership.js';
import { DEFAULT_POLICY, placeAll, type PlacementRequest, type Policy } from './scheduler/index.js';
import { placementRequestOf } from './schedule-explain.js';

export interface DrainRunnerOptions {
  kv: ClusterKv;
  host: string;
  prefix?: string;
  directory: HostDirectory;
  log: Logger;
  /** This host's VMs, and every host's (for what the other hosts already hold). */
  vms(): Promise<VmRecord[]>;
  allVms(): Promise<VmRecord[]>;
  /** Moves the VM to `to` (live when it runs, offline when stopped) by the daemon-to-daemon migration. */
  move(vm: string, to: PublishedHost): Promise<void>;
  /** Makes `to` the owner of a stopped VM whose files both hosts reach (shared vmsDir). */
  rehome(vm: string, to: string): Promise<void>;
  /** VMs moved at once (default 2). */
  concurrency?: number;
  policy?: Policy;
  tickMs?: number;
}

const LIVE = new Set(['running', 'paused']);
const OFFLINE = new Set(['stopped', 'created', 'suspended']);

/** What each VM of the drain does, and where it goes (pure: the scheduler's choice, or why not). */
export function planDrain(mine: readonly VmRecord[], others: readonly PublishedHost[], all: readonly VmRecord[], self: PublishedHost | undefined, policy: Policy): DrainVmView[] {
  const movable = mine.filter((v) => LIVE.has(v.state) || OFFLINE.has(v.state));
  const requests: PlacementRequest[] = movable.map((v) => placementRequestOf(v.name, v.spec));
  const { placements } = placeAll(requests, candidates(others, all, []), policy);
  const byVm = new Map(placements.map((p) => [p.vm, p]));
  const storage = self?.facts['storage'];
  return mine.map((v): DrainVmView => {
    if (!LIVE.has(v.state) && !OFFLINE.has(v.state)) return { vm: v.name, action: 'live-migrate', state: 'failed', to: null, error: `VM ${v.name} is ${v.state}; a drain moves running, paused, stopped, created and suspended VMs` };
    const p = byVm.get(v.name)!;
    const action = LIVE.has(v.state) ? 'live-migrate' : 'offline-move';
    if (p.host === null) {
      const by = Object.entries(p.rejectedBy).map(([f, n]) => `${f} ${n}`).join(', ');
      return { vm: v.name, action, state: 'failed', to: null, error: `no other ready host fits VM ${v.name}${by ? ` (hosts rejected by ${by})` : ''}` };
    }
    const to = others.find((h) => h.name === p.host)!;
    const shared = storage !== undefined && to.facts['storage'] === storage;
    if (!shared) return { vm: v.name, action, state: 'pending', to: to.name, error: null };
    if (action === 'offline-move' && v.state !== 'suspended') return { vm: v.name, action: 'rehome', state: 'pending', to: to.name, error: null };
    return { vm: v.name, action, state: 'failed', to: to.name, error: `VM ${v.name} is ${v.state} on a vmsDir ${to.name} shares: moving it would overwrite its own files; stop it (it is then re-homed), or give the hosts their own vmsDir` };
  });
}

export class DrainRunner {
  private readonly keys: ReturnType<typeof clusterKeys>;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: DrainRunnerOptions) {
    this.keys = clusterKeys(o.prefix);
  }

  /** Watches for a drain of this host (every tick) and carries it out, until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const tick = this.o.tickMs ?? 1000;
    while (!signal.aborted) {
      try {
        const admin = await this.o.kv.get(this.keys.hostAdmin(this.o.host), { signal });
        if (admin && (JSON.parse(admin.value) as { state: string }).state === 'draining') await this.drain();
      } catch (err) {
        if (!signal.aborted) this.o.log.error({ err }, 'drain: a round failed; trying again');
      }
      await new Promise((r) => setTimeout(r, tick).unref());
    }
  }

  /** One drain of this host, start to end. */
  async drain(): Promise<DrainView> {
    const cur = await this.o.kv.get(this.keys.drain(this.o.host));
    const view: DrainView = cur ? JSON.parse(cur.value) as DrainView : { host: this.o.host, state: 'draining', startedAt: new Date().toISOString(), finishedAt: null, vms: [] };
    const [mine, live, all] = await Promise.all([this.o.vms(), this.o.directory.live(), this.o.allVms()]);
    const self = live.find((h) => h.name === this.o.host);
    view.vms = planDrain(mine, live.filter((h) => h.name !== this.o.host), all, self, this.o.policy ?? DEFAULT_POLICY);
    await this.save(view);
    this.o.log.info({ vms: view.vms.map((v) => `${v.vm}:${v.action}->${v.to ?? '-'}`) }, 'drain: started');
    const queue = view.vms.filter((v) => v.state === 'pending');
    const workers = Array.from({ length: Math.max(1, this.o.concurrency ?? 2) }, async () => {
      for (let v = queue.shift(); v; v = queue.shift()) await this.one(view, v, live);
    });
    await Promise.all(workers);
    const ok = view.vms.every((v) => v.state === 'done');
    view.state = ok ? 'drained' : 'failed';
    view.finishedAt = new Date().toISOString();
    await this.save(view);
    await this.o.kv.put(this.keys.hostAdmin(this.o.host), JSON.stringify({ state: ok ? 'drained' : 'cordoned', at: view.finishedAt }));
    this.o.log.info({ state: view.state, failed: view.vms.filter((v) => v.state === 'failed').map((v) => `${v.vm}: ${v.error}`) }, 'drain: finished');
    return view;
  }

  private async one(view: DrainView, v: DrainVmView, live: readonly PublishedHost[]): Promise<void> {
    v.state = 'moving';
    await this.save(view);
    try {
      if (v.action === 'rehome') await this.o.rehome(v.vm, v.to!);
      else await this.o.move(v.vm, live.find((h) => h.name === v.to)!);
      v.state = 'done';
    } catch (err) {
      v.state = 'failed';
      v.error = (err as Error).message;
      this.o.log.warn({ vm: v.vm, to: v.to, err }, 'drain: a VM could not leave; the others go on');
    }
    await this.save(view);
  }

  /** Writes the record; writes are kept in order. */
  private save(view: DrainView): Promise<unknown> {
    const text = JSON.stringify(view);
    this.writes = this.writes.then(() => this.o.kv.put(this.keys.drain(this.o.host), text), () => this.o.kv.put(this.keys.drain(this.o.host), text));
    return this.writes;
  }
}

/** The API URL (and pinned fingerprint) a member publishes; DRAIN_FAILED when it publishes none. */
export function apiOf(h: PublishedHost): { url: string; tlsFingerprint?: string } {
  const url = h.facts['apiUrl'];
  if (!url) fail('DRAIN_FAILED', `host ${h.name} publishes no API URL (its daemon listens on no TCP address), so VMs cannot be moved to it`);
  return { url, ...(h.facts['apiFingerprint'] ? { tlsFingerprint: h.facts['apiFingerprint'] } : {}) };
}
