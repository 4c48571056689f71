/**
 * Leader election on the cluster store, etcd's campaign pattern: each
 * candidate writes one key under the election prefix, attached to its lease;
 * the key with the lowest create revision leads; every other candidate waits
 * for the key just before its own to go. A leader's decisions are
 * transactions guarded by its key's create revision, so a deposed leader
 * (lease expired, key gone) cannot write.
 */
import { PolyvisorError, sleep, throwIfAborted } from '../shared/index.js';
import type { ClusterKv, KeyValue, KvOp, KvTxnResult } from '../store/index.js';
import { clusterKeys } from './keys.js';
import type { LeaseKeeper } from './lease.js';

export interface ElectionOptions {
  kv: ClusterKv;
  /** The election's name, e.g. "scheduler" or "ha". */
  name: string;
  /** This candidate's name (its host), stored as the key's value. */
  candidate: string;
  lease: LeaseKeeper;
  prefix?: string;
}

export interface Leadership {
  /** The candidate key that leads. */
  key: string;
  /** Its create revision: the term of this leadership. */
  revision: number;
}

/** Who leads election `name` now (the lowest create revision under its prefix), per the store. */
export async function currentLeader(kv: ClusterKv, name: string, prefix?: string, signal?: AbortSignal): Promise<{ candidate: string; key: string; revision: number } | undefined> {
  const { kvs } = await kv.range(clusterKeys(prefix).election(name), { prefix: true, signal });
  const first = [...kvs].sort((a, b) => a.createRevision - b.createRevision)[0];
  return first && { candidate: first.value, key: first.key, revision: first.createRevision };
}

export class Election {
  private readonly dir: string;
  private mine: KeyValue | undefined;
  private leading: Leadership | undefined;

  constructor(private readonly opts: ElectionOptions) {
    this.dir = clusterKeys(opts.prefix).election(opts.name);
  }

  /** True while this candidate leads and its lease is surely alive. */
  get isLeader(): boolean {
    return this.leading !== undefined && this.opts.lease.alive;
  }

  get leadership(): Leadership | undefined {
    return this.isLeader ? this.leading : undefined;
  }

  /**
   * Enters the election and resolves when this candidate leads. The store
   * being unavailable for a while (a leader change of etcd itself) is waited
   * out; `signal` ends the wait (then the candidate key is withdrawn).
   */
  async campaign(signal: AbortSignal): Promise<Leadership> {
    const { kv, lease } = this.opts;
    for (;;) {
      throwIfAborted(signal, `the ${this.opts.name} election`);
      if (!lease.alive) throw new PolyvisorError('STORE_UNAVAILABLE', `the ${this.opts.name} election: this candidate's lease is lost (${lease.lost ?? 'not renewed'})`);
      try {
        const mine = await this.ensureKey(signal);
        const { kvs, revision } = await kv.range(this.dir, { prefix: true, signal });
        if (!kvs.some((k) => k.key === mine.key)) {
          this.mine = undefined; // our key went (lease expired and was re-granted?): enter again
          continue;
        }
        const before = kvs.filter((k) => k.createRevision < mine.createRevision).sort((a, b) => b.createRevision - a.createRevision);
        if (before.length === 0) {
          this.leading = { key: mine.key, revision: mine.createRevision };
          return this.leading;
        }
        await this.waitForDelete(before[0]!.key, revision, signal);
      } catch (err) {
        if (signal.aborted) {
          await this.resign().catch(() => undefined);
          throw err;
        }
        if (!(err instanceof PolyvisorError && err.code === 'STORE_UNAVAILABLE')) throw err;
        await sleep(100, signal).catch(() => undefined);
      }
    }
  }

  /**
   * Runs `ops` only while this candidate still leads: the transaction compares
   * its key's create revision. Throws CLUSTER_NOT_LEADER when deposed.
   */
  async decide(ops: KvOp[], signal?: AbortSignal): Promise<KvTxnResult> {
    const l = this.leading;
    if (!l || !this.opts.lease.alive) throw new PolyvisorError('CLUSTER_NOT_LEADER', `${this.opts.candidate} does not lead the ${this.opts.name} election`);
    const r = await this.opts.kv.txn([{ key: l.key, target: 'create', op: '=', value: l.revision }], ops, [], { signal });
    if (!r.succeeded) {
      this.leading = undefined;
      throw new PolyvisorError('CLUSTER_NOT_LEADER', `${this.opts.candidate} no longer leads the ${this.opts.name} election (its term ${l.revision} ended)`);
    }
    return r;
  }

  /** Leaves the election: deletes this candidate's key (the next one takes over at once). */
  async resign(): Promise<void> {
    const mine = this.mine;
    this.leading = undefined;
    this.mine = undefined;
    if (mine) await this.opts.kv.txn([{ key: mine.key, target: 'create', op: '=', value: mine.createRevision }], [{ delete: mine.key }]);
  }

  private async ensureKey(signal: AbortSignal): Promise<KeyValue> {
    if (this.mine) return this.mine;
    const lease = this.opts.lease.id;
    const key = `${this.dir}${lease}`;
    const r = await this.opts.kv.txn([{ key, target: 'create', op: '=', value: 0 }], [{ put: key, value: this.opts.candidate, lease }, { get: key }], [{ get: key }], { signal });
    const kv = r.succeeded ? r.gets[1]?.[0] : r.gets[0]?.[0];
    if (!kv) throw new Error(`election: candidate key ${key} vanished while it was written`);
    this.mine = kv;
    return kv;
  }

  /** Resolves when `key` is deleted after `revision`, or after a recheck interval (the caller looks again). */
  private async waitForDelete(key: string, revision: number, signal: AbortSignal): Promise<void> {
    const recheckMs = Math.max(200, (this.opts.lease.ttlSeconds * 1000) / 3);
    await new Promise<void>((resolve) => {
      const w = this.opts.kv.watch(key, { fromRevision: revision }, (e) => {
        if (e.type === 'delete') finish();
      });
      const timer = setTimeout(finish, recheckMs);
      const onAbort = (): void => finish();
      signal.addEventListener('abort', onAbort, { once: true });
      void w.done.then(() => setTimeout(finish, 100));
      function finish(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        w.close();
        resolve();
      }
    });
  }
}
