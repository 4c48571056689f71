/**
 * Join tokens (docs/cluster.md): what a new host shows a member to be let in,
 * like Incus's `incus cluster add` tokens. 32 random bytes, shown once; etcd
 * keeps only their SHA-256 (`join-tokens/HASH`) with the expiry. A token
 * admits one host: the member marks it used in a transaction compared on the
 * key's revision, so two joiners racing with one token cannot both get in.
 */
import { createHash, randomBytes } from 'node:crypto';
import { fail } from '../shared/index.js';
import type { ClusterKv } from '../store/index.js';
import { clusterKeys } from './keys.js';

export const JOIN_TOKEN_PREFIX = 'pvj_';
const JOIN_TOKEN_PATTERN = /^pvj_[A-Za-z0-9_-]{43}$/;
export const DEFAULT_JOIN_TOKEN_TTL_SECONDS = 3600;
export const MAX_JOIN_TOKEN_TTL_SECONDS = 7 * 86_400;
/** Used and expired tokens are kept this long (so a late joiner hears "used"/"expired", not "unknown"), then pruned. */
const KEEP_MS = 86_400_000;

export interface JoinTokenRecord {
  createdAt: string;
  expiresAt: string;
  /** The host that made it. */
  createdBy: string;
  usedAt?: string;
  usedBy?: string;
}

const hashOf = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export class JoinTokens {
  private readonly keys: ReturnType<typeof clusterKeys>;

  constructor(private readonly kv: ClusterKv, prefix?: string) {
    this.keys = clusterKeys(prefix);
  }

  /** A new token valid for `ttlSeconds` (1 s to 7 days). */
  async create(createdBy: string, ttlSeconds = DEFAULT_JOIN_TOKEN_TTL_SECONDS, now = Date.now()): Promise<{ token: string; expiresAt: string }> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_JOIN_TOKEN_TTL_SECONDS) {
      fail('INVALID_ARGUMENT', `a join token lives 1 s to 7 days (${MAX_JOIN_TOKEN_TTL_SECONDS} s); ${ttlSeconds} was asked`, { details: [{ field: 'ttlSeconds', message: `an integer from 1 to ${MAX_JOIN_TOKEN_TTL_SECONDS}` }] });
    }
    await this.prune(now);
    const token = JOIN_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const rec: JoinTokenRecord = { createdAt: new Date(now).toISOString(), expiresAt: new Date(now + ttlSeconds * 1000).toISOString(), createdBy };
    await this.kv.put(this.keys.joinToken(hashOf(token)), JSON.stringify(rec));
    return { token, expiresAt: rec.expiresAt };
  }

  /** Admits `host` with `token` once: CLUSTER_TOKEN_UNKNOWN, _EXPIRED or _USED otherwise. */
  async consume(token: string, host: string, now = Date.now()): Promise<void> {
    const key = this.keys.joinToken(JOIN_TOKEN_PATTERN.test(token) ? hashOf(token) : 'malformed');
    const kv = JOIN_TOKEN_PATTERN.test(token) ? await this.kv.get(key) : undefined;
    if (!kv) fail('CLUSTER_TOKEN_UNKNOWN', 'this join token was never issued by the cluster (or was pruned a day after it expired)');
    const rec = JSON.parse(kv.value) as JoinTokenRecord;
    if (rec.usedAt) fail('CLUSTER_TOKEN_USED', `this join token already admitted host ${rec.usedBy ?? '?'} at ${rec.usedAt}`);
    if (Date.parse(rec.expiresAt) <= now) fail('CLUSTER_TOKEN_EXPIRED', `this join token expired at ${rec.expiresAt}`);
    const used: JoinTokenRecord = { ...rec, usedAt: new Date(now).toISOString(), usedBy: host };
    const r = await this.kv.txn([{ key, target: 'mod', op: '=', value: kv.modRevision }], [{ put: key, value: JSON.stringify(used) }]);
    if (!r.succeeded) fail('CLUSTER_TOKEN_USED', 'another host joined with this token at the same moment');
  }

  private async prune(now: number): Promise<void> {
    const { kvs } = await this.kv.range(this.keys.joinTokens, { prefix: true });
    for (const k of kvs) {
      const rec = JSON.parse(k.value) as JoinTokenRecord;
      if (Date.parse(rec.expiresAt) + KEEP_MS < now) await this.kv.delete(k.key);
    }
  }
}
