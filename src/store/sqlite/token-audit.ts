/** The api_tokens and audit_log tables (TokenStore and AuditStore of the SQLite backend). */
import { fail, ROLES as ROLE_LIST } from '../../shared/index.js';
import type { AuditView, Role } from '../../spec/index.js';
import type { AuditEntry, AuditFilter, AuditStore, TokenRecord, TokenStore } from '../store.js';
import { guard, sqliteCode, statementCache, toStoreError, type Db } from './database.js';

interface TokenRow { name: string; role: string; hash: string; prefix: string; created_at: string; last_used_at: string | null; expires_at: string | null }
interface AuditRow { id: number; at: string; actor: string; action: string; resource: string | null; outcome: string; status: number; detail: string }

const ROLES: ReadonlySet<string> = new Set(ROLE_LIST);
/** Audit rows kept; older ones are pruned as new ones arrive. */
export const AUDIT_KEEP = 100_000;

const toToken = (r: TokenRow): TokenRecord => {
  if (!ROLES.has(r.role)) throw new Error(`store: unknown token role ${JSON.stringify(r.role)}`);
  return { name: r.name, role: r.role as Role, hash: r.hash, prefix: r.prefix, createdAt: r.created_at, lastUsedAt: r.last_used_at, expiresAt: r.expires_at };
};

const toAudit = (r: AuditRow): AuditView => ({
  id: r.id, at: r.at, actor: r.actor, action: r.action, resource: r.resource,
  outcome: r.outcome as AuditView['outcome'], status: r.status, detail: JSON.parse(r.detail) as Record<string, unknown>,
});

export class TokenAuditTables implements TokenStore, AuditStore {
  private readonly q;
  private appended = 0;
  /** listAudit's statements by their text (prepared once, not per call). */
  private readonly prepared;

  constructor(db: Db) {
    this.prepared = statementCache(db);
    const cols = 'name, role, hash, prefix, created_at, last_used_at, expires_at';
    this.q = {
      insertToken: db.prepare<[TokenRow]>(`INSERT INTO api_tokens (${cols}) VALUES (@name, @role, @hash, @prefix, @created_at, @last_used_at, @expires_at)`),
      byHash: db.prepare<[string], TokenRow>(`SELECT ${cols} FROM api_tokens WHERE hash = ?`),
      list: db.prepare<[], TokenRow>(`SELECT ${cols} FROM api_tokens ORDER BY name`),
      remove: db.prepare<[string]>('DELETE FROM api_tokens WHERE name = ?'),
      touch: db.prepare<[string, string]>('UPDATE api_tokens SET last_used_at = ? WHERE name = ?'),
      insertAudit: db.prepare<[Omit<AuditRow, 'id'>]>(
        'INSERT INTO audit_log (at, actor, action, resource, outcome, status, detail) VALUES (@at, @actor, @action, @resource, @outcome, @status, @detail)',
      ),
      prune: db.prepare<[number]>('DELETE FROM audit_log WHERE id <= (SELECT MAX(id) FROM audit_log) - ?'),
      olderThan: db.prepare<[string, number], AuditRow>('SELECT id, at, actor, action, resource, outcome, status, detail FROM audit_log WHERE at < ? ORDER BY id LIMIT ?'),
      deleteThrough: db.prepare<[number]>('DELETE FROM audit_log WHERE id <= ?'),
    };
  }

  async createToken(input: Omit<TokenRecord, 'createdAt' | 'lastUsedAt' | 'expiresAt'> & { expiresAt?: string | null }): Promise<TokenRecord> {
    const rec: TokenRecord = { ...input, createdAt: new Date().toISOString(), lastUsedAt: null, expiresAt: input.expiresAt ?? null };
    try {
      this.q.insertToken.run({ name: rec.name, role: rec.role, hash: rec.hash, prefix: rec.prefix, created_at: rec.createdAt, last_used_at: null, expires_at: rec.expiresAt });
    } catch (err) {
      if (sqliteCode(err) === 'SQLITE_CONSTRAINT_PRIMARYKEY') fail('TOKEN_EXISTS', `a token named ${rec.name} already exists`, { cause: err });
      throw toStoreError(`creating token ${rec.name}`, err);
    }
    return rec;
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    const row = guard('reading a token', () => this.q.byHash.get(hash));
    return row === undefined ? undefined : toToken(row);
  }

  async listTokens(): Promise<TokenRecord[]> {
    return guard('listing tokens', () => this.q.list.all()).map(toToken);
  }

  async deleteToken(name: string): Promise<void> {
    const { changes } = guard(`revoking token ${name}`, () => this.q.remove.run(name));
    if (changes === 0) fail('TOKEN_NOT_FOUND', `no token named ${name}`);
  }

  async touchToken(name: string, at: string): Promise<void> {
    guard(`touching token ${name}`, () => this.q.touch.run(at, name));
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    guard('writing the audit log', () =>
      this.q.insertAudit.run({ at: e.at, actor: e.actor, action: e.action, resource: e.resource, outcome: e.outcome, status: e.status, detail: JSON.stringify(e.detail) }),
    );
    if (++this.appended % 1000 === 0) guard('pruning the audit log', () => this.q.prune.run(AUDIT_KEEP));
  }

  async listAudit(f: AuditFilter = {}): Promise<AuditView[]> {
    const where: string[] = [];
    const params: Array<string | number> = [];
    const add = (clause: string, v: string | number | undefined): void => {
      if (v === undefined) return;
      where.push(clause);
      params.push(v);
    };
    add('actor = ?', f.actor);
    add('resource = ?', f.resource);
    add('id < ?', f.before);
    add('at >= ?', f.since);
    const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
    const sql = `SELECT id, at, actor, action, resource, outcome, status, detail FROM audit_log
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return guard('reading the audit log', () => this.prepared<Array<string | number>, AuditRow>(sql).all(...params, limit)).map(toAudit);
  }

  async auditOlderThan(before: string, limit: number): Promise<AuditView[]> {
    return guard('reading old audit entries', () => this.q.olderThan.all(before, limit)).map(toAudit);
  }

  async deleteAuditThrough(id: number): Promise<number> {
    return guard('pruning the audit log', () => this.q.deleteThrough.run(id)).changes;
  }
}
