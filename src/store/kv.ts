/**
 * The coordination seam of a cluster store: leases, transactions compared on
 * revisions, and watches — what cluster/ (membership, election) needs from
 * etcd, without naming the backend. Keys and values are strings (UTF-8);
 * lease ids are decimal strings (etcd's int64 does not fit a JS number).
 */

export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the key's creation; 0 for an absent key in comparisons. */
  createRevision: number;
  modRevision: number;
  version: number;
  /** The lease the key is attached to; '0' for none. */
  lease: string;
}

export type KvCompare =
  | { key: string; target: 'create' | 'mod' | 'version'; op: '=' | '!=' | '<' | '>'; value: number }
  | { key: string; target: 'value'; op: '=' | '!='; value: string };

export type KvOp =
  | { put: string; value: string; lease?: string }
  | { delete: string; prefix?: boolean }
  | { get: string; prefix?: boolean };

export interface KvTxnResult {
  succeeded: boolean;
  /** The store's revision after the transaction. */
  revision: number;
  /** For each `get` op of the branch taken, the keys it found (other ops: []). */
  gets: KeyValue[][];
}

export interface KvRangeOptions {
  prefix?: boolean;
  limit?: number;
  /** Newest key first (descending key order). */
  descending?: boolean;
  /** With `prefix`: start at this key (inclusive) instead of the prefix itself: the next page of a paged listing. */
  fromKey?: string;
  /** Read the keys as they were at this store revision (every page of one listing at the first page's revision). */
  revision?: number;
  signal?: AbortSignal;
}

export interface KvWatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
}

export interface KvWatch {
  /** Stops the watch; idempotent. */
  close(): void;
  /** Resolves when the watch ends (closed, or the stream failed: then with the error). */
  readonly done: Promise<Error | undefined>;
}

export interface Lease {
  id: string;
  ttlSeconds: number;
}

export interface ClusterKv {
  get(key: string, opts?: { signal?: AbortSignal }): Promise<KeyValue | undefined>;
  range(key: string, opts?: KvRangeOptions): Promise<{ kvs: KeyValue[]; revision: number }>;
  put(key: string, value: string, opts?: { lease?: string; signal?: AbortSignal }): Promise<number>;
  delete(key: string, opts?: { prefix?: boolean; signal?: AbortSignal }): Promise<number>;
  txn(compare: KvCompare[], success: KvOp[], failure?: KvOp[], opts?: { signal?: AbortSignal }): Promise<KvTxnResult>;
  grantLease(ttlSeconds: number, opts?: { signal?: AbortSignal }): Promise<Lease>;
  /** Renews the lease once; returns the TTL granted, 0 when the lease is gone (expired or revoked). */
  keepAliveOnce(leaseId: string, opts?: { signal?: AbortSignal }): Promise<number>;
  revokeLease(leaseId: string, opts?: { signal?: AbortSignal }): Promise<void>;
  /** Calls `onEvent` for every change of `key` (or under it with `prefix`) after `fromRevision` (exclusive). */
  watch(key: string, opts: { prefix?: boolean; fromRevision?: number }, onEvent: (e: KvWatchEvent) => void): KvWatch;
  close(): Promise<void>;
}
