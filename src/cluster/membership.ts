/**
 * Host membership: each host agent holds a lease and publishes
 * `<prefix>hosts/NAME` (capacity, facts, state) under it. The key lives as
 * long as the agent keeps the lease alive; when the agent dies or hangs, the
 * store expires the lease and the host disappears from the list.
 */
import type { ClusterKv } from '../store/index.js';
import { clusterKeys } from './keys.js';
import { LeaseKeeper } from './lease.js';

/** etcd's answer to a put under a lease it no longer has (expired: the lease keeper marks it lost at its next renewal). */
const LEASE_GONE = /requested lease not found/i;

export type HostAgentState = 'ready' | 'cordoned' | 'draining' | 'drained';

export interface HostCapacity {
  cpus: number;
  memoryBytes: number;
  diskBytes: number;
}

export interface HostRecord {
  name: string;
  state: HostAgentState;
  capacity: HostCapacity;
  /** Free-form facts (accelerator, QEMU version, labels…). */
  facts: Record<string, string>;
  /** When this agent published the record. */
  since: string;
}

export interface PublishedHost extends HostRecord {
  /** The lease the record lives under. */
  lease: string;
  /** The store revision that created the record (a rejoin makes a new one). */
  createRevision: number;
}

export interface HostAgentOptions {
  kv: ClusterKv;
  host: Omit<HostRecord, 'since'>;
  /** Lease TTL in seconds (default 10). */
  ttlSeconds?: number;
  prefix?: string;
  onLost?: (why: string) => void;
  /** After every renewal: until when the lease is surely alive (feed it to the fencing watchdog). */
  onRenewed?: (aliveUntil: number) => void;
}

export const DEFAULT_HOST_TTL_SECONDS = 10;

export class HostAgent {
  readonly lease: LeaseKeeper;
  private record: HostRecord;

  constructor(private readonly opts: HostAgentOptions) {
    this.lease = new LeaseKeeper({ kv: opts.kv, ttlSeconds: opts.ttlSeconds ?? DEFAULT_HOST_TTL_SECONDS, onLost: opts.onLost, onRenewed: opts.onRenewed });
    this.record = { ...opts.host, since: new Date().toISOString() };
  }

  /** The record this agent publishes. */
  get published(): HostRecord {
    return this.record;
  }

  get key(): string {
    return clusterKeys(this.opts.prefix).host(this.record.name);
  }

  /** Grants the lease and publishes the host record under it. */
  async join(signal?: AbortSignal): Promise<void> {
    const lease = await this.lease.grant(signal);
    await this.opts.kv.put(this.key, JSON.stringify(this.record), { lease, signal });
  }

  /** After the lease was lost: a new lease, and the host record put again under it (cluster/rejoin.ts). */
  async rejoin(signal?: AbortSignal): Promise<void> {
    if (this.lease.lost !== undefined) await this.lease.regrant(signal); // a retry after the put failed keeps the new lease
    this.record = { ...this.record, since: new Date().toISOString() };
    await this.opts.kv.put(this.key, JSON.stringify(this.record), { lease: this.lease.id, signal });
  }

  /** Publishes a new state (cordon, drain) under the same lease. */
  async setState(state: HostAgentState, signal?: AbortSignal): Promise<void> {
    this.record = { ...this.record, state };
    await this.opts.kv.put(this.key, JSON.stringify(this.record), { lease: this.lease.id, signal });
  }

  /**
   * Publishes more facts (the API URL once the daemon listens) under the same lease. A lease lost meanwhile (a
   * busy host may miss its TTL between join and listen) is no error here: the record keeps the facts and the
   * rejoin puts it again under the new lease (seen in a loaded test run: the daemon exited on "lease not found").
   */
  async addFacts(facts: Record<string, string>, signal?: AbortSignal): Promise<void> {
    this.record = { ...this.record, facts: { ...this.record.facts, ...facts } };
    if (this.lease.lost !== undefined) return;
    try {
      await this.opts.kv.put(this.key, JSON.stringify(this.record), { lease: this.lease.id, signal });
    } catch (err) {
      if (this.lease.lost !== undefined || LEASE_GONE.test((err as Error).message)) return;
      throw err;
    }
  }

  /** Leaves the cluster at once: the lease is revoked and the record goes with it. */
  async leave(): Promise<void> {
    await this.lease.revoke();
  }

  /** Stops keeping the lease alive, as a crashed agent would: the record goes after the TTL. */
  async crash(): Promise<void> {
    await this.lease.stop();
  }
}

/** The hosts whose leases are alive, sorted by name. */
export async function listHosts(kv: ClusterKv, prefix?: string, signal?: AbortSignal): Promise<PublishedHost[]> {
  const { kvs } = await kv.range(clusterKeys(prefix).hosts, { prefix: true, signal });
  return kvs.map((k) => ({ ...(JSON.parse(k.value) as HostRecord), lease: k.lease, createRevision: k.createRevision }));
}
