/**
 * Every VM record of the cluster store, kept in memory by a watch: what the
 * HA manager decides from on each pass without reading the whole VM prefix
 * through etcd's gateway every second (at 100,000 records one listing took
 * longer than the manager's 1 s tick: bench/cluster-scale.ts).
 *
 * The first `list()` reads the prefix in pages, every page at the first
 * page's store revision (one consistent snapshot), then watches the prefix
 * from that revision on, so no change between the snapshot and the watch is
 * missed. Each event replaces or removes one record (an event older than the
 * record held is ignored). When the watch ends (etcd restarted, the revision
 * was compacted, the connection dropped), the next `list()` reads everything
 * again the same way. A record read here may lag etcd by the watch's delay:
 * decisions made from it are carried out with a compare-and-set on the
 * record's generation (HaExecutor), so a stale one is dropped, never applied.
 */
import type { Logger } from '../shared/index.js';
import type { ClusterKv, KvWatch, KvWatchEvent, VmRecord } from '../store/index.js';

export interface VmRecordCacheOptions {
  kv: ClusterKv;
  /** The store's VM prefix (clusterKeys(prefix).vms). */
  vmsKey: string;
  log: Logger;
  /** Records per page of the full read (default 5,000). */
  pageSize?: number;
}

interface Entry {
  rec: VmRecord;
  mod: number;
}

export class VmRecordCache {
  private records = new Map<string, Entry>();
  private watch: KvWatch | undefined;
  private broken = true;
  /** How many full reads were made (the first one, then one per watch that ended). */
  loads = 0;
  /** The store revision of the last full read. */
  revision = 0;

  constructor(private readonly o: VmRecordCacheOptions) {}

  /** Every VM record, as of the last change the watch delivered; reads them all first when there is no live watch. */
  async list(signal?: AbortSignal): Promise<VmRecord[]> {
    if (this.broken) await this.load(signal);
    return Array.from(this.records.values(), (e) => e.rec);
  }

  get size(): number {
    return this.records.size;
  }

  /** Stops the watch and forgets the records (the next list() reads them again). */
  close(): void {
    this.broken = true;
    this.watch?.close();
    this.watch = undefined;
    this.records = new Map();
  }

  private async load(signal?: AbortSignal): Promise<void> {
    this.watch?.close();
    this.watch = undefined;
    const page = this.o.pageSize ?? 5_000;
    const records = new Map<string, Entry>();
    let revision: number | undefined;
    let fromKey: string | undefined;
    for (;;) {
      const r = await this.o.kv.range(this.o.vmsKey, {
        prefix: true, limit: page, ...(fromKey !== undefined ? { fromKey } : {}), ...(revision !== undefined ? { revision } : {}), ...(signal ? { signal } : {}),
      });
      revision ??= r.revision;
      for (const kv of r.kvs) records.set(kv.key, { rec: JSON.parse(kv.value) as VmRecord, mod: kv.modRevision });
      const last = r.kvs.at(-1);
      if (r.kvs.length < page || !last) break;
      fromKey = `${last.key}\u0000`;
    }
    this.records = records;
    this.revision = revision;
    this.loads++;
    const w = this.o.kv.watch(this.o.vmsKey, { prefix: true, fromRevision: revision }, (e) => this.apply(e));
    this.watch = w;
    this.broken = false;
    void w.done.then((err) => {
      if (this.watch !== w) return;
      this.broken = true;
      this.o.log.warn({ err }, 'VM record cache: the watch ended; the next pass reads every record again');
    });
  }

  private apply(e: KvWatchEvent): void {
    const have = this.records.get(e.kv.key);
    if (have && have.mod >= e.kv.modRevision && e.type === 'put') return;
    if (e.type === 'delete') {
      this.records.delete(e.kv.key);
      return;
    }
    try {
      this.records.set(e.kv.key, { rec: JSON.parse(e.kv.value) as VmRecord, mod: e.kv.modRevision });
    } catch (err) {
      this.o.log.error({ err, key: e.kv.key }, 'VM record cache: an unreadable record; reading every record again');
      this.broken = true;
    }
  }
}
