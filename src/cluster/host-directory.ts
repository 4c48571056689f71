/**
 * The cluster's hosts as operators see them: every host that ever joined
 * (`hosts-known/NAME`, written at join, no lease) with the live record under
 * its lease (`hosts/NAME`) when it has one, and the administrator's state
 * (`hosts-admin/NAME`: cordoned), which any host may write — the live record
 * belongs to its agent's lease. A known host without a live record is down.
 */
import { fail } from '../shared/index.js';
import type { DrainView, HostPlacementFacts, HostView } from '../spec/index.js';
import type { ClusterKv, VmRecord } from '../store/index.js';
import { CLAIMING_STATES, sumClaims } from './vm-claims.js';
import { clusterKeys } from './keys.js';
import { listHosts, type HostRecord, type PublishedHost } from './membership.js';

/** cordoned: no new VMs; draining: its VMs are being moved off; drained: cordoned, its VMs moved off. */
export type AdminState = 'cordoned' | 'draining' | 'drained';

export class HostDirectory {
  private readonly keys: ReturnType<typeof clusterKeys>;

  constructor(readonly kv: ClusterKv, private readonly self: string, prefix?: string) {
    this.keys = clusterKeys(prefix);
  }

  /** The cluster's key prefix (ends with /). */
  get prefix(): string {
    return this.keys.prefix;
  }

  /** Notes a joining host for good (so it shows as down after its lease is gone). */
  async remember(rec: HostRecord): Promise<void> {
    await this.kv.put(this.keys.hostKnown(rec.name), JSON.stringify(rec));
  }

  /** The live hosts with the administrator's state applied (what the scheduler and HA see). */
  async live(signal?: AbortSignal): Promise<PublishedHost[]> {
    const [hosts, admin] = await Promise.all([listHosts(this.kv, this.keys.prefix, signal), this.adminStates(signal)]);
    return hosts.map((h) => {
      const a = admin.get(h.name);
      return a && h.state === 'ready' ? { ...h, state: a } : h;
    });
  }

  async list(vms: readonly VmRecord[], now = Date.now()): Promise<HostView[]> {
    const [live, known] = await Promise.all([this.live(), this.kv.range(this.keys.hostsKnown, { prefix: true })]);
    const byName = new Map<string, HostView>();
    const zero = () => ({ cpus: 0, memoryBytes: 0, diskBytes: 0 });
    for (const k of known.kvs) {
      const r = JSON.parse(k.value) as HostRecord;
      byName.set(r.name, { name: r.name, state: 'down', capacity: r.capacity, allocated: zero(), vms: 0, pool: r.facts['pool'] ?? '', version: r.facts['version'] ?? '', since: r.since, leaseAgeSeconds: null, self: r.name === this.self });
    }
    for (const h of live) {
      byName.set(h.name, {
        name: h.name, state: h.state, capacity: h.capacity, allocated: zero(), vms: 0, pool: h.facts['pool'] ?? '', version: h.facts['version'] ?? '',
        since: h.since, leaseAgeSeconds: Math.max(0, Math.round((now - Date.parse(h.since)) / 1000)), self: h.name === this.self,
        ...topologyOf(h.facts),
      });
    }
    const owned = new Map<string, VmRecord[]>();
    for (const r of vms) {
      const list = owned.get(r.host);
      if (list) list.push(r);
      else owned.set(r.host, [r]);
    }
    for (const v of byName.values()) {
      const mine = owned.get(v.name) ?? [];
      v.vms = mine.length;
      v.allocated = sumClaims(mine.filter((r) => CLAIMING_STATES.has(r.state)));
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Cordons (no new VMs, HA skips it) or uncordons a known host; uncordoning also ends a drain's record. */
  async setCordoned(name: string, cordoned: boolean): Promise<void> {
    await this.mustKnow(name);
    if (cordoned) await this.kv.put(this.keys.hostAdmin(name), JSON.stringify({ state: 'cordoned', at: new Date().toISOString() }));
    else {
      await this.kv.delete(this.keys.hostAdmin(name));
      await this.kv.delete(this.keys.drain(name));
    }
  }

  /** Asks a live host to drain itself (drain.ts): it is marked draining and its drain record opened. */
  async requestDrain(name: string): Promise<DrainView> {
    await this.mustKnow(name);
    if (!(await this.kv.get(this.keys.host(name)))) fail('DRAIN_FAILED', `host ${name} is down: nothing can move its VMs live; HA restarts its HA VMs elsewhere`);
    const cur = await this.drainOf(name);
    if (cur?.state === 'draining') return cur;
    const at = new Date().toISOString();
    const view: DrainView = { host: name, state: 'draining', startedAt: at, finishedAt: null, vms: [] };
    await this.kv.put(this.keys.drain(name), JSON.stringify(view));
    await this.kv.put(this.keys.hostAdmin(name), JSON.stringify({ state: 'draining', at }));
    return view;
  }

  /** The host's last drain and its progress per VM. */
  async drainStatus(name: string): Promise<DrainView> {
    await this.mustKnow(name);
    const view = await this.drainOf(name);
    if (!view) fail('HOST_NOT_FOUND', `host ${name} has no drain (none was asked, or it was uncordoned since)`);
    return view;
  }

  private async drainOf(name: string): Promise<DrainView | undefined> {
    const kv = await this.kv.get(this.keys.drain(name));
    return kv ? JSON.parse(kv.value) as DrainView : undefined;
  }

  private async mustKnow(name: string): Promise<void> {
    if (!(await this.kv.get(this.keys.hostKnown(name)))) fail('HOST_NOT_FOUND', `no host named ${name} ever joined this cluster`);
  }

  private async adminStates(signal?: AbortSignal): Promise<Map<string, AdminState>> {
    const { kvs } = await this.kv.range(this.keys.hostsAdmin, { prefix: true, ...(signal ? { signal } : {}) });
    return new Map(kvs.map((k) => [k.key.slice(this.keys.hostsAdmin.length), (JSON.parse(k.value) as { state: AdminState }).state]));
  }
}

/** The topology a host published (facts.topology, JSON: spec's HostPlacementFacts); nothing when absent or unreadable. */
function topologyOf(facts: Record<string, string>): { topology?: HostPlacementFacts } {
  const t = facts['topology'];
  if (t === undefined) return {};
  try {
    const v = JSON.parse(t) as HostPlacementFacts;
    return Array.isArray(v.nodes) && Array.isArray(v.gpus) ? { topology: v } : {};
  } catch {
    return {};
  }
}
