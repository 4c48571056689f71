/**
 * The embedded default Store: one SQLite file (better-sqlite3). Methods are
 * async to match the interface; each runs synchronously inside one
 * transaction, so it is atomic in this process and, through IMMEDIATE
 * transactions and the busy timeout, against other processes on the file.
 */
import { PolyvisorError, fail, silentLogger, type Logger } from '../../shared/index.js';
import type { AuditEntry, AuditFilter, AuditStore, MetaStore, Store, TokenRecord, TokenStore, VmFilter, VmPatch, VmRecord } from '../store.js';
import type { AuditView } from '../../spec/index.js';
import { guard, openDatabase, sqliteCode, statementCache, toStoreError, type Db } from './database.js';
import { MIGRATIONS, migrate } from './migrations.js';
import { VM_COLUMNS, toRecord, toRow, type VmRow } from './rows.js';
import { TokenAuditTables } from './token-audit.js';
import { NetworkTables } from './network-tables.js';
import type { NetworkPatch, NetworkRecord, NetworkStore, NicAllocation, NicAllocationFilter } from '../network-store.js';

export interface SqliteStoreOptions {
  logger?: Logger;
}

export interface SqliteStore extends Store, MetaStore, TokenStore, AuditStore, NetworkStore {
  /** The database file. */
  readonly file: string;
  /** PRAGMA integrity_check: ['ok'] or the problems SQLite found (for `doctor`). */
  integrityCheck(): Promise<string[]>;
}

/** Opens (creating if needed) and migrates the state database at `file`. */
export function openSqliteStore(file: string, opts: SqliteStoreOptions = {}): SqliteStore {
  const logger = opts.logger ?? silentLogger;
  const db = openDatabase(file);
  try {
    guard('migrating the schema', () => migrate(db, MIGRATIONS, logger));
  } catch (err) {
    db.close();
    throw err;
  }
  logger.debug({ file }, 'state database open');
  return new SqliteStoreImpl(file, db);
}

class SqliteStoreImpl implements SqliteStore {
  private readonly q;
  private readonly tables: TokenAuditTables;
  private readonly networks: NetworkTables;
  /** listVms' statements by their text (prepared once, not per call). */
  private readonly prepared;

  constructor(
    readonly file: string,
    private readonly db: Db,
  ) {
    this.tables = new TokenAuditTables(db);
    this.networks = new NetworkTables(db);
    this.prepared = statementCache(db);
    this.q = {
      get: db.prepare<[string], VmRow>(`SELECT ${VM_COLUMNS} FROM vms WHERE name = ?`),
      insert: db.prepare<[VmRow]>(
        `INSERT INTO vms (${VM_COLUMNS}) VALUES
         (@id, @name, @spec, @state, @state_reason, @host, @runtime, @owner, @created_at, @updated_at, @generation)`,
      ),
      update: db.prepare<[VmRow]>(
        `UPDATE vms SET spec = @spec, state = @state, state_reason = @state_reason, host = @host,
         runtime = @runtime, updated_at = @updated_at, generation = @generation WHERE id = @id`,
      ),
      remove: db.prepare<[string]>('DELETE FROM vms WHERE name = ?'),
      getMeta: db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck(),
      setMeta: db.prepare<[string, string]>(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      initMeta: db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
    };
  }

  async createVm(input: Omit<VmRecord, 'createdAt' | 'updatedAt' | 'generation'>): Promise<VmRecord> {
    const now = new Date().toISOString();
    const rec: VmRecord = { ...input, createdAt: now, updatedAt: now, generation: 1 };
    const row = toRow(rec);
    try {
      this.q.insert.run(row);
    } catch (err) {
      const code = sqliteCode(err);
      if (code === 'SQLITE_CONSTRAINT_UNIQUE') fail('VM_EXISTS', `a VM named ${rec.name} already exists`, { cause: err });
      if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new Error(`store: duplicate VM id ${rec.id}`, { cause: err });
      throw toStoreError(`creating VM ${rec.name}`, err);
    }
    return rec;
  }

  async getVm(name: string): Promise<VmRecord | undefined> {
    const row = guard(`reading VM ${name}`, () => this.q.get.get(name));
    return row === undefined ? undefined : toRecord(row);
  }

  async listVms(filter: VmFilter = {}): Promise<VmRecord[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.host !== undefined) {
      where.push('host = ?');
      params.push(filter.host);
    }
    for (const [key, value] of Object.entries(filter.labels ?? {})) {
      // json_each compares the key as a plain string: no JSON-path quoting of "app.io/x" keys.
      where.push(`EXISTS (SELECT 1 FROM json_each(vms.spec, '$.labels') AS l
                  WHERE l.key = ? AND l.type = 'text' AND l.value = ?)`);
      params.push(key, value);
    }
    const sql = `SELECT ${VM_COLUMNS} FROM vms ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY name`;
    const rows = guard('listing VMs', () => this.prepared<string[], VmRow>(sql).all(...params));
    return rows.map(toRecord);
  }

  async updateVm(name: string, patch: VmPatch, expectGeneration?: number): Promise<VmRecord> {
    const tx = this.db.transaction((): VmRecord => {
      const row = this.q.get.get(name);
      if (row === undefined) fail('VM_NOT_FOUND', `no VM named ${name}`);
      const cur = toRecord(row);
      if (expectGeneration !== undefined && cur.generation !== expectGeneration) {
        throw new PolyvisorError(
          'VM_BUSY',
          `VM ${name} changed while this operation ran (generation ${cur.generation}, expected ${expectGeneration})`,
        );
      }
      const next: VmRecord = { ...cur, updatedAt: new Date().toISOString(), generation: cur.generation + 1 };
      if (patch.spec !== undefined) next.spec = patch.spec;
      if (patch.state !== undefined) next.state = patch.state;
      if (patch.stateReason !== undefined) next.stateReason = patch.stateReason;
      if (patch.host !== undefined) next.host = patch.host;
      if (patch.runtime !== undefined) next.runtime = patch.runtime;
      this.q.update.run(toRow(next));
      return next;
    });
    return guard(`updating VM ${name}`, () => tx.immediate());
  }

  async deleteVm(name: string): Promise<void> {
    const { changes } = guard(`deleting VM ${name}`, () => this.q.remove.run(name));
    if (changes === 0) fail('VM_NOT_FOUND', `no VM named ${name}`);
  }

  async getMeta(key: string): Promise<string | undefined> {
    return guard(`reading meta ${key}`, () => this.q.getMeta.get(key));
  }

  async setMeta(key: string, value: string): Promise<void> {
    guard(`writing meta ${key}`, () => this.q.setMeta.run(key, value));
  }

  async initMeta(key: string, value: string): Promise<string> {
    const tx = this.db.transaction((): string => {
      this.q.initMeta.run(key, value);
      const stored = this.q.getMeta.get(key);
      if (stored === undefined) throw new Error(`store: meta ${key} vanished inside a transaction`);
      return stored;
    });
    return guard(`initializing meta ${key}`, () => tx.immediate());
  }

  createToken(rec: Omit<TokenRecord, 'createdAt' | 'lastUsedAt' | 'expiresAt'> & { expiresAt?: string | null }): Promise<TokenRecord> { return this.tables.createToken(rec); }
  findTokenByHash(hash: string): Promise<TokenRecord | undefined> { return this.tables.findTokenByHash(hash); }
  listTokens(): Promise<TokenRecord[]> { return this.tables.listTokens(); }
  deleteToken(name: string): Promise<void> { return this.tables.deleteToken(name); }
  touchToken(name: string, at: string): Promise<void> { return this.tables.touchToken(name, at); }
  appendAudit(e: AuditEntry): Promise<void> { return this.tables.appendAudit(e); }
  listAudit(f?: AuditFilter): Promise<AuditView[]> { return this.tables.listAudit(f); }
  auditOlderThan(before: string, limit: number): Promise<AuditView[]> { return this.tables.auditOlderThan(before, limit); }
  deleteAuditThrough(id: number): Promise<number> { return this.tables.deleteAuditThrough(id); }
  createNetwork(rec: Omit<NetworkRecord, 'createdAt'>): Promise<NetworkRecord> { return this.networks.createNetwork(rec); }
  getNetwork(name: string): Promise<NetworkRecord | undefined> { return this.networks.getNetwork(name); }
  listNetworks(): Promise<NetworkRecord[]> { return this.networks.listNetworks(); }
  updateNetwork(name: string, patch: NetworkPatch): Promise<NetworkRecord> { return this.networks.updateNetwork(name, patch); }
  deleteNetwork(name: string): Promise<void> { return this.networks.deleteNetwork(name); }
  listNicAllocations(f?: NicAllocationFilter): Promise<NicAllocation[]> { return this.networks.listNicAllocations(f); }
  putNicAllocation(a: NicAllocation): Promise<void> { return this.networks.putNicAllocation(a); }
  deleteNicAllocations(vm: string, nic?: string): Promise<number> { return this.networks.deleteNicAllocations(vm, nic); }

  async integrityCheck(): Promise<string[]> {
    return guard('checking integrity', () => this.db.prepare<[], string>('PRAGMA integrity_check').pluck().all());
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
