/**
 * Tokens and the audit log on etcd. A token is two keys written in one
 * transaction (by name, and a hash index); audit ids come from a counter key
 * bumped in the same transaction as the entry, so ids are gap-free and
 * ordered across every daemon of the cluster.
 */
import { PolyvisorError, fail, ROLES as ROLE_LIST } from '../../shared/index.js';
import type { AuditView, Role } from '../../spec/index.js';
import type { AuditEntry, AuditFilter, AuditStore, TokenRecord, TokenStore } from '../store.js';
import type { EtcdKv } from './etcd-kv.js';
import type { Keys } from './keys.js';

const ROLES: ReadonlySet<string> = new Set(ROLE_LIST);
/** Audit entries kept; older ones are pruned as new ones arrive (as the SQLite backend does). */
export const ETCD_AUDIT_KEEP = 100_000;
const CAS_ROUNDS = 50;
/** Audit entries read per round trip while filtering. */
const PAGE = 500;

function toToken(value: string): TokenRecord {
  const t = JSON.parse(value) as TokenRecord;
  if (!ROLES.has(t.role)) throw new Error(`store: unknown token role ${JSON.stringify(t.role)}`);
  return t;
}

export class EtcdTokenAudit implements TokenStore, AuditStore {
  private appended = 0;

  constructor(
    private readonly kv: EtcdKv,
    private readonly keys: Keys,
  ) {}

  async createToken(input: Omit<TokenRecord, 'createdAt' | 'lastUsedAt' | 'expiresAt'> & { expiresAt?: string | null }): Promise<TokenRecord> {
    const rec: TokenRecord = { ...input, role: input.role as Role, createdAt: new Date().toISOString(), lastUsedAt: null, expiresAt: input.expiresAt ?? null };
    const key = this.keys.token(rec.name);
    const hashKey = this.keys.tokenHash(rec.hash);
    const r = await this.kv.txn(
      [{ key, target: 'create', op: '=', value: 0 }, { key: hashKey, target: 'create', op: '=', value: 0 }],
      [{ put: key, value: JSON.stringify(rec) }, { put: hashKey, value: rec.name }],
      [{ get: key }],
    );
    if (!r.succeeded) {
      if ((r.gets[0] ?? []).length > 0) fail('TOKEN_EXISTS', `a token named ${rec.name} already exists`);
      throw new Error('store: two tokens with the same hash');
    }
    return rec;
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    const name = await this.kv.get(this.keys.tokenHash(hash));
    if (name === undefined) return undefined;
    const tok = await this.kv.get(this.keys.token(name.value));
    return tok === undefined ? undefined : toToken(tok.value);
  }

  async listTokens(): Promise<TokenRecord[]> {
    const { kvs } = await this.kv.range(this.keys.tokens, { prefix: true });
    return kvs.map((kv) => toToken(kv.value));
  }

  async deleteToken(name: string): Promise<void> {
    const key = this.keys.token(name);
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const kv = await this.kv.get(key);
      if (kv === undefined) fail('TOKEN_NOT_FOUND', `no token named ${name}`);
      const { hash } = toToken(kv.value);
      const r = await this.kv.txn([{ key, target: 'mod', op: '=', value: kv.modRevision }], [{ delete: key }, { delete: this.keys.tokenHash(hash) }]);
      if (r.succeeded) return;
    }
    throw new Error(`store: token ${name} kept changing while it was revoked`);
  }

  /** Best effort, like the SQLite backend: a token revoked meanwhile stays revoked. */
  async touchToken(name: string, at: string): Promise<void> {
    const key = this.keys.token(name);
    const kv = await this.kv.get(key);
    if (kv === undefined) return;
    const next = { ...toToken(kv.value), lastUsedAt: at };
    await this.kv.txn([{ key, target: 'mod', op: '=', value: kv.modRevision }], [{ put: key, value: JSON.stringify(next) }]);
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    const seqKey = this.keys.auditSeq;
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const seq = await this.kv.get(seqKey);
      const id = (seq === undefined ? 0 : Number(seq.value)) + 1;
      const view: AuditView = { id, at: e.at, actor: e.actor, action: e.action, resource: e.resource, outcome: e.outcome, status: e.status, detail: e.detail };
      const r = await this.kv.txn(
        [{ key: seqKey, target: 'mod', op: '=', value: seq?.modRevision ?? 0 }],
        [{ put: seqKey, value: String(id) }, { put: this.keys.auditEntry(id), value: JSON.stringify(view) }],
      );
      if (r.succeeded) {
        if (++this.appended % 1000 === 0 && id > ETCD_AUDIT_KEEP) await this.deleteAuditThrough(id - ETCD_AUDIT_KEEP);
        return;
      }
    }
    throw new PolyvisorError('STORE_UNAVAILABLE', `the audit log stayed contended for ${CAS_ROUNDS} attempts`);
  }

  async listAudit(f: AuditFilter = {}): Promise<AuditView[]> {
    const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
    const out: AuditView[] = [];
    let end = f.before !== undefined ? this.keys.auditEntry(Math.max(f.before, 0)) : this.keys.auditEntry(Number.MAX_SAFE_INTEGER);
    const start = this.keys.auditEntry(0);
    for (;;) {
      const page = await this.kv.between(start, end, { descending: true, limit: PAGE });
      for (const kv of page) {
        const v = JSON.parse(kv.value) as AuditView;
        if (f.since !== undefined && v.at < f.since) return out; // ids grow with time: nothing older can match
        if (f.actor !== undefined && v.actor !== f.actor) continue;
        if (f.resource !== undefined && v.resource !== f.resource) continue;
        out.push(v);
        if (out.length >= limit) return out;
      }
      if (page.length < PAGE) return out;
      end = page[page.length - 1]!.key;
    }
  }

  async auditOlderThan(before: string, limit: number): Promise<AuditView[]> {
    const page = await this.kv.between(this.keys.auditEntry(0), this.keys.auditEntry(Number.MAX_SAFE_INTEGER), { limit: Math.max(limit, 1) });
    return page.map((kv) => JSON.parse(kv.value) as AuditView).filter((v) => v.at < before).slice(0, limit);
  }

  async deleteAuditThrough(id: number): Promise<number> {
    if (id < 1) return 0;
    return this.kv.deleteBetween(this.keys.auditEntry(0), this.keys.auditEntry(id + 1));
  }
}
