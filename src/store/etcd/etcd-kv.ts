/**
 * ClusterKv on etcd's v3 JSON gateway: keys and values travel base64-encoded,
 * int64 fields as decimal strings. The primitives the EtcdStore and cluster/
 * (leases, election) are built from.
 */
import type { ClusterKv, KeyValue, KvCompare, KvOp, KvRangeOptions, KvTxnResult, KvWatch, KvWatchEvent, Lease } from '../kv.js';
import { EtcdGatewayError, EtcdTransport, type EtcdConnection } from './transport.js';
import { openWatch } from './watch.js';
import { b64, prefixEnd, toKv, type RawKv } from './codec.js';

interface Header { revision?: string }
interface RangeResponse { header?: Header; kvs?: RawKv[]; count?: string }
interface TxnResponse {
  header?: Header;
  succeeded?: boolean;
  responses?: Array<{ response_range?: RangeResponse; response_put?: unknown; response_delete_range?: { deleted?: string } }>;
}

const TARGET = { create: 'CREATE', mod: 'MOD', version: 'VERSION', value: 'VALUE' } as const;
const FIELD = { create: 'create_revision', mod: 'mod_revision', version: 'version', value: 'value' } as const;
const RESULT = { '=': 'EQUAL', '!=': 'NOT_EQUAL', '<': 'LESS', '>': 'GREATER' } as const;

function compareJson(c: KvCompare): Record<string, unknown> {
  const value = c.target === 'value' ? b64(c.value) : String(c.value);
  return { key: b64(c.key), target: TARGET[c.target], result: RESULT[c.op], [FIELD[c.target]]: value };
}

function opJson(op: KvOp): Record<string, unknown> {
  if ('put' in op) return { request_put: { key: b64(op.put), value: b64(op.value), ...(op.lease ? { lease: op.lease } : {}) } };
  if ('delete' in op) return { request_delete_range: { key: b64(op.delete), ...(op.prefix ? { range_end: prefixEnd(op.delete) } : {}) } };
  return { request_range: { key: b64(op.get), ...(op.prefix ? { range_end: prefixEnd(op.get) } : {}) } };
}

export class EtcdKv implements ClusterKv {
  readonly transport: EtcdTransport;

  constructor(conn: EtcdConnection) {
    this.transport = new EtcdTransport(conn);
  }

  async get(key: string, opts: { signal?: AbortSignal } = {}): Promise<KeyValue | undefined> {
    const r = await this.transport.call<RangeResponse>('/v3/kv/range', { key: b64(key) }, `reading ${key}`, opts.signal);
    const raw = r.kvs?.[0];
    return raw === undefined ? undefined : toKv(raw);
  }

  async range(key: string, opts: KvRangeOptions = {}): Promise<{ kvs: KeyValue[]; revision: number }> {
    const body: Record<string, unknown> = { key: b64(opts.prefix && opts.fromKey !== undefined ? opts.fromKey : key) };
    if (opts.prefix) body['range_end'] = prefixEnd(key);
    if (opts.limit !== undefined) body['limit'] = String(opts.limit);
    if (opts.revision !== undefined) body['revision'] = String(opts.revision);
    if (opts.descending) Object.assign(body, { sort_order: 'DESCEND', sort_target: 'KEY' });
    const r = await this.transport.call<RangeResponse>('/v3/kv/range', body, `listing ${key}`, opts.signal);
    return { kvs: (r.kvs ?? []).map(toKv), revision: Number(r.header?.revision ?? 0) };
  }

  /** Keys from `from` (inclusive) to `to` (exclusive), ascending or descending, at most `limit`. */
  async between(from: string, to: string, opts: { limit?: number; descending?: boolean; signal?: AbortSignal } = {}): Promise<KeyValue[]> {
    const body: Record<string, unknown> = { key: b64(from), range_end: b64(to) };
    if (opts.limit !== undefined) body['limit'] = String(opts.limit);
    if (opts.descending) Object.assign(body, { sort_order: 'DESCEND', sort_target: 'KEY' });
    const r = await this.transport.call<RangeResponse>('/v3/kv/range', body, `listing ${from}`, opts.signal);
    return (r.kvs ?? []).map(toKv);
  }

  async put(key: string, value: string, opts: { lease?: string; signal?: AbortSignal } = {}): Promise<number> {
    const body = { key: b64(key), value: b64(value), ...(opts.lease ? { lease: opts.lease } : {}) };
    const r = await this.transport.call<{ header?: Header }>('/v3/kv/put', body, `writing ${key}`, opts.signal);
    return Number(r.header?.revision ?? 0);
  }

  async delete(key: string, opts: { prefix?: boolean; signal?: AbortSignal } = {}): Promise<number> {
    return this.deleteBetween(key, opts.prefix ? undefined : null, opts.signal);
  }

  /** Deletes `from` up to `to` (exclusive; undefined: every key with prefix `from`; null: just `from`). */
  async deleteBetween(from: string, to: string | undefined | null, signal?: AbortSignal): Promise<number> {
    const body: Record<string, unknown> = { key: b64(from) };
    if (to === undefined) body['range_end'] = prefixEnd(from);
    else if (to !== null) body['range_end'] = b64(to);
    const r = await this.transport.call<{ deleted?: string }>('/v3/kv/deleterange', body, `deleting ${from}`, signal);
    return Number(r.deleted ?? 0);
  }

  async txn(compare: KvCompare[], success: KvOp[], failure: KvOp[] = [], opts: { signal?: AbortSignal } = {}): Promise<KvTxnResult> {
    const body = { compare: compare.map(compareJson), success: success.map(opJson), failure: failure.map(opJson) };
    const r = await this.transport.call<TxnResponse>('/v3/kv/txn', body, 'a transaction', opts.signal);
    const gets = (r.responses ?? []).map((x) => (x.response_range?.kvs ?? []).map(toKv));
    return { succeeded: r.succeeded === true, revision: Number(r.header?.revision ?? 0), gets };
  }

  async grantLease(ttlSeconds: number, opts: { signal?: AbortSignal } = {}): Promise<Lease> {
    const r = await this.transport.call<{ ID?: string; TTL?: string }>('/v3/lease/grant', { TTL: String(ttlSeconds) }, 'granting a lease', opts.signal);
    if (!r.ID) throw new Error('etcd: lease grant answered without an ID');
    return { id: r.ID, ttlSeconds: Number(r.TTL ?? ttlSeconds) };
  }

  async keepAliveOnce(leaseId: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
    const r = await this.transport.call<{ result?: { TTL?: string } }>('/v3/lease/keepalive', { ID: leaseId }, `renewing lease ${leaseId}`, opts.signal);
    return Number(r.result?.TTL ?? 0);
  }

  async revokeLease(leaseId: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.transport.call('/v3/lease/revoke', { ID: leaseId }, `revoking lease ${leaseId}`, opts.signal);
    } catch (err) {
      if (err instanceof EtcdGatewayError && err.grpcCode === 5) return; // already gone
      throw err;
    }
  }

  watch(key: string, opts: { prefix?: boolean; fromRevision?: number }, onEvent: (e: KvWatchEvent) => void): KvWatch {
    const req: Record<string, unknown> = { key: b64(key) };
    if (opts.prefix) req['range_end'] = prefixEnd(key);
    if (opts.fromRevision !== undefined) req['start_revision'] = String(opts.fromRevision + 1);
    return openWatch(this.transport, req, key, onEvent);
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
