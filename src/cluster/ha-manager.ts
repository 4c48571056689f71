/**
 * The HA manager: one per cluster (etcd's election picks it). Each tick it
 * reads the live hosts (lease keys) and every VM record — from a cache the
 * leader keeps by watching the VM prefix (VmRecordCache), not a listing of
 * the whole prefix per pass — and decides with
 * planFailover which HA VMs of lost hosts restart where. A decision is a
 * restart intent `ha/restart/VM` written in a transaction that compares the
 * manager's election key, so a deposed manager writes nothing; the target
 * host's HaExecutor carries it out with a compare-and-set on the VM record's
 * generation, so a decision is neither lost (the intent stays until carried
 * out) nor doubled (the generation moves on once).
 */
import { isPolyvisorError, sleep, type Logger } from '../shared/index.js';
import type { Store, VmRecord } from '../store/index.js';
import type { ClusterKv } from '../store/index.js';
import type { Election } from './election.js';
import type { HostDirectory } from './host-directory.js';
import { planFailover, HA_RESTART_STATES, type HaPlan, type HaVm } from './ha-plan.js';
import { clusterKeys } from './keys.js';
import { listHosts, type PublishedHost } from './membership.js';
import { DEFAULT_POLICY, type HostCandidate, type Policy } from './scheduler/index.js';
import { groupsOf, placementRequestOf } from './schedule-explain.js';
import { sumClaims, vmClaim } from './vm-claims.js';
import { FENCE_MARGIN_MS } from './watchdog.js';
import { VmRecordCache } from './vm-record-cache.js';

export interface HaIntent {
  vm: string;
  from: string;
  to: string;
  generation: number;
  at: string;
}

export interface HaManagerOptions {
  kv: ClusterKv;
  /**
   * Where the VM records come from. Default: a VmRecordCache on `kv` (the VM prefix read once when this candidate
   * starts leading, then watched), closed when it stops leading.
   */
  store?: Pick<Store, 'listVms'>;
  election: Election;
  log: Logger;
  /** The live hosts with cordons applied (default: the lease records alone). */
  directory?: HostDirectory;
  prefix?: string;
  policy?: Policy;
  marginMs?: number;
  tickMs?: number;
  now?: () => number;
}

const HOUR_MS = 3_600_000;

/** The VM's anti-affinity group and rule from its label, as every placement reads them. */
function spreadOf(name: string, spec: VmRecord['spec']): Pick<HaVm, 'groups' | 'rules'> {
  const r = placementRequestOf(name, spec);
  return { ...(r.groups ? { groups: r.groups } : {}), ...(r.rules ? { rules: r.rules } : {}) };
}

/** What the VMs placed on each live host claim, and the hosts as scheduler candidates. */
export function candidates(hosts: readonly PublishedHost[], vms: readonly VmRecord[], intents: readonly HaIntent[]): HostCandidate[] {
  const placed = new Map<string, VmRecord[]>();
  const add = (host: string, rec: VmRecord) => {
    const list = placed.get(host);
    if (list) list.push(rec);
    else placed.set(host, [rec]);
  };
  const byName = new Map(vms.map((v) => [v.name, v]));
  for (const rec of vms) if (HA_RESTART_STATES.has(rec.state)) add(rec.host, rec);
  for (const i of intents) {
    const rec = byName.get(i.vm);
    if (rec) add(i.to, rec);
  }
  return hosts.map((h) => {
    const on = placed.get(h.name) ?? [];
    return {
      name: h.name,
      state: h.state,
      capacity: h.capacity,
      allocated: sumClaims(on),
      ...(h.facts['pool'] ? { pool: h.facts['pool'] } : {}),
      vms: on.map((r) => ({ name: r.name, groups: groupsOf(r.spec) })),
    };
  });
}

export class HaManager {
  private readonly lostSince = new Map<string, number>();
  private readonly keys: ReturnType<typeof clusterKeys>;
  private readonly now: () => number;
  /** The watch-fed VM records, when no `store` was given. */
  readonly cache: VmRecordCache | undefined;

  constructor(private readonly o: HaManagerOptions) {
    this.keys = clusterKeys(o.prefix);
    this.now = o.now ?? Date.now;
    this.cache = o.store ? undefined : new VmRecordCache({ kv: o.kv, vmsKey: this.keys.vms, log: o.log });
  }

  /** One pass, as the leader: decides and writes the restarts due now. */
  async tick(signal?: AbortSignal): Promise<HaPlan> {
    const [hosts, vms, intentKvs] = await Promise.all([
      this.o.directory ? this.o.directory.live(signal) : listHosts(this.o.kv, this.o.prefix, signal),
      this.o.store ? this.o.store.listVms() : this.cache!.list(signal),
      this.o.kv.range(this.keys.haRestarts, { prefix: true, ...(signal ? { signal } : {}) }),
    ]);
    const intents = intentKvs.kvs.map((k) => JSON.parse(k.value) as HaIntent);
    const now = this.now();
    const alive = new Set(hosts.map((h) => h.name));
    for (const h of this.lostSince.keys()) if (alive.has(h)) this.lostSince.delete(h);
    for (const rec of vms) if (!alive.has(rec.host) && !this.lostSince.has(rec.host)) this.lostSince.set(rec.host, now);
    const haVms: HaVm[] = [];
    for (const rec of vms) {
      const ha = rec.spec.ha;
      if (!ha) continue;
      haVms.push({
        name: rec.name, host: rec.host, state: rec.state, generation: rec.generation,
        ...vmClaim(rec),
        priority: ha.priority, restricted: ha.restricted, maxRestarts: ha.maxRestarts,
        recentRestarts: alive.has(rec.host) ? 0 : await this.recentRestarts(rec.name, now, signal),
        ...(ha.group ? { group: ha.group } : {}),
        ...spreadOf(rec.name, rec.spec),
      });
    }
    const plan = planFailover({
      vms: haVms, hosts: candidates(hosts, vms, intents), lostSince: this.lostSince, now,
      marginMs: this.o.marginMs ?? FENCE_MARGIN_MS, pending: new Set(intents.map((i) => i.vm)), policy: this.o.policy ?? DEFAULT_POLICY,
    });
    for (const r of plan.restarts) {
      const intent: HaIntent = { ...r, at: new Date(now).toISOString() };
      await this.o.election.decide([{ put: this.keys.haRestart(r.vm), value: JSON.stringify(intent) }], signal);
      this.o.log.warn({ vm: r.vm, from: r.from, to: r.to }, 'HA: host lost, VM restarts elsewhere');
    }
    for (const s of plan.stuck) this.o.log.error({ vm: s.vm, from: s.from, why: s.why }, 'HA: VM cannot restart');
    return plan;
  }

  private async recentRestarts(vm: string, now: number, signal?: AbortSignal): Promise<number> {
    const kv = await this.o.kv.get(this.keys.haHistory(vm), signal ? { signal } : {});
    if (!kv) return 0;
    return (JSON.parse(kv.value) as number[]).filter((t) => t > now - HOUR_MS).length;
  }

  /** Campaigns, then ticks while leading; campaigns again when deposed. Until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const every = this.o.tickMs ?? 1_000;
    while (!signal.aborted) {
      try {
        await this.o.election.campaign(signal);
        this.o.log.info({}, 'HA manager: leading');
        for (;;) {
          await this.tick(signal);
          await sleep(every, signal);
        }
      } catch (err) {
        this.cache?.close(); // a new term starts from a fresh read; a follower holds no records
        if (signal.aborted) return;
        const known = isPolyvisorError(err, 'CLUSTER_NOT_LEADER') || isPolyvisorError(err, 'STORE_UNAVAILABLE');
        this.o.log[known ? 'warn' : 'error']({ err }, 'HA manager: not leading; campaigning again');
        await sleep(every, signal).catch(() => undefined);
      }
    }
  }
}
