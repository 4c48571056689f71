/**
 * Ordered schema steps. A step is never edited once released: add a new one.
 * Each runs in its own IMMEDIATE transaction together with its row in
 * schema_migrations, so a crash or a second process never sees half a step.
 */
import { PolyvisorError, silentLogger, type Logger } from '../../shared/index.js';
import type { Db } from './database.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Db): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'vms',
    up: (db) =>
      db.exec(`
        CREATE TABLE vms (
          id           TEXT PRIMARY KEY,
          name         TEXT NOT NULL UNIQUE,
          spec         TEXT NOT NULL CHECK (json_valid(spec)),
          state        TEXT NOT NULL,
          state_reason TEXT NOT NULL DEFAULT '',
          host         TEXT NOT NULL,
          runtime      TEXT CHECK (runtime IS NULL OR json_valid(runtime)),
          created_at   TEXT NOT NULL,
          updated_at   TEXT NOT NULL,
          generation   INTEGER NOT NULL DEFAULT 1
        ) STRICT;
        CREATE INDEX vms_host ON vms (host);
      `),
  },
  {
    version: 2,
    name: 'meta',
    up: (db) => db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;`),
  },
  {
    version: 3,
    name: 'api-tokens',
    up: (db) =>
      db.exec(`
        CREATE TABLE api_tokens (
          name         TEXT PRIMARY KEY,
          role         TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
          hash         TEXT NOT NULL UNIQUE,
          prefix       TEXT NOT NULL,
          created_at   TEXT NOT NULL,
          last_used_at TEXT
        ) STRICT;
      `),
  },
  {
    version: 4,
    name: 'audit-log',
    up: (db) =>
      db.exec(`
        CREATE TABLE audit_log (
          id       INTEGER PRIMARY KEY AUTOINCREMENT,
          at       TEXT NOT NULL,
          actor    TEXT NOT NULL,
          action   TEXT NOT NULL,
          resource TEXT,
          outcome  TEXT NOT NULL,
          status   INTEGER NOT NULL,
          detail   TEXT NOT NULL CHECK (json_valid(detail))
        ) STRICT;
        CREATE INDEX audit_log_actor ON audit_log (actor, id);
        CREATE INDEX audit_log_resource ON audit_log (resource, id);
      `),
  },
  {
    // The peer role (another daemon's credential for host-to-host moves); SQLite cannot change a CHECK: rebuild.
    version: 5,
    name: 'api-tokens-peer-role',
    up: (db) =>
      db.exec(`
        CREATE TABLE api_tokens_new (
          name         TEXT PRIMARY KEY,
          role         TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'peer')),
          hash         TEXT NOT NULL UNIQUE,
          prefix       TEXT NOT NULL,
          created_at   TEXT NOT NULL,
          last_used_at TEXT
        ) STRICT;
        INSERT INTO api_tokens_new SELECT name, role, hash, prefix, created_at, last_used_at FROM api_tokens;
        DROP TABLE api_tokens;
        ALTER TABLE api_tokens_new RENAME TO api_tokens;
      `),
  },
  {
    // Tokens may expire (audit defect 13); NULL: never. The audit log is pruned by age: an index on its time.
    version: 6,
    name: 'token-expiry-audit-time',
    up: (db) =>
      db.exec(`
        ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
        CREATE INDEX audit_log_at ON audit_log (at);
      `),
  },
  {
    // Virtual networks (issue 18) and the allocations of the VM NICs on them.
    version: 7,
    name: 'networks',
    up: (db) =>
      db.exec(`
        CREATE TABLE networks (
          name       TEXT PRIMARY KEY,
          mode       TEXT NOT NULL CHECK (mode IN ('nat', 'isolated', 'bridge')),
          bridge     TEXT NOT NULL UNIQUE,
          subnet     TEXT,
          gateway    TEXT,
          dhcp_start TEXT,
          dhcp_end   TEXT,
          dns_domain TEXT,
          uplink     TEXT,
          vlan       INTEGER CHECK (vlan IS NULL OR vlan BETWEEN 1 AND 4094),
          created_at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE network_nics (
          network TEXT NOT NULL REFERENCES networks (name) ON DELETE CASCADE,
          vm      TEXT NOT NULL,
          nic     TEXT NOT NULL,
          mac     TEXT NOT NULL,
          ip      TEXT,
          tap     TEXT NOT NULL UNIQUE,
          PRIMARY KEY (vm, nic),
          UNIQUE (network, ip)
        ) STRICT;
      `),
  },
  {
    // Who created each VM (token and role, JSON), for the role quotas (issue 23, audit defect 10).
    version: 8,
    name: 'vm-owner',
    up: (db) => db.exec(`ALTER TABLE vms ADD COLUMN owner TEXT CHECK (owner IS NULL OR json_valid(owner));`),
  },
];

/** The highest schema version recorded in `db` (0 for a fresh file). */
export function schemaVersion(db: Db): number {
  const v = db.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get();
  return typeof v === 'number' ? v : 0;
}

/**
 * Brings `db` up to the last of `steps`. Refuses a database whose schema is
 * newer than the code (STORE_SCHEMA_TOO_NEW). Returns the versions applied.
 */
export function migrate(db: Db, steps: readonly Migration[] = MIGRATIONS, logger: Logger = silentLogger): number[] {
  steps.forEach((s, i) => {
    if (s.version !== i + 1) throw new Error(`migration ${s.name} must have version ${i + 1}, has ${s.version}`);
  });
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  ) STRICT`);
  const known = steps.length;
  const found = schemaVersion(db);
  if (found > known) {
    throw new PolyvisorError(
      'STORE_SCHEMA_TOO_NEW',
      `the state database has schema version ${found}; this Polyvisor knows versions up to ${known}`,
    );
  }
  const applied: number[] = [];
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').pluck();
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const step of steps.slice(found)) {
    const apply = db.transaction(() => {
      // Another process may have applied it since we looked.
      if (isApplied.get(step.version) !== undefined) return false;
      step.up(db);
      record.run(step.version, step.name, new Date().toISOString());
      return true;
    });
    if (apply.immediate()) {
      applied.push(step.version);
      logger.info({ version: step.version, migration: step.name }, 'state database migrated');
    }
  }
  return applied;
}
