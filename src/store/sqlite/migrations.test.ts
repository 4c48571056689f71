import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPolyvisorError, newUuid } from '../../shared/index.js';
import { openDatabase } from './database.js';
import { MIGRATIONS, migrate, schemaVersion, type Migration } from './migrations.js';
import { openSqliteStore } from './index.js';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-migrate-'));
  file = path.join(dir, 'state.db');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function rows(f: string): { version: number; name: string; applied_at: string }[] {
  const db = openDatabase(f);
  try {
    return db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all() as never;
  } finally {
    db.close();
  }
}

function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return isPolyvisorError(err) ? err.code : err;
  }
  return 'no error';
}

describe('sqlite schema migrations', () => {
  it('opens with WAL, synchronous=FULL and foreign keys', () => {
    const db = openDatabase(file);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it('applies every step once on a fresh file and nothing on reopen', async () => {
    const s1 = openSqliteStore(file);
    await s1.close();
    const first = rows(file);
    expect(first.map((r) => [r.version, r.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
    const s2 = openSqliteStore(file);
    await s2.close();
    expect(rows(file)).toEqual(first);
  });

  it('brings an older database up to date and keeps its rows', async () => {
    const db = openDatabase(file);
    expect(migrate(db, MIGRATIONS.slice(0, 1))).toEqual([1]);
    db.prepare(
      `INSERT INTO vms (id, name, spec, state, state_reason, host, runtime, created_at, updated_at, generation)
       VALUES (?, 'old', '{"name":"old","labels":{}}', 'stopped', '', 'h', NULL, 't', 't', 7)`,
    ).run(newUuid());
    db.close();

    const store = openSqliteStore(file);
    try {
      expect(rows(file).map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect((await store.getVm('old'))?.generation).toBe(7);
      expect(await store.initMeta('k', 'v')).toBe('v'); // the table of step 2 exists
    } finally {
      await store.close();
    }
  });

  it('refuses a database from a newer schema and leaves it untouched', () => {
    openSqliteStore(file).close();
    const db = openDatabase(file);
    db.prepare("INSERT INTO schema_migrations VALUES (?, 'from-the-future', 'x')").run(MIGRATIONS.length + 1);
    db.close();
    const before = rows(file);
    expect(codeOf(() => openSqliteStore(file))).toBe('STORE_SCHEMA_TOO_NEW');
    expect(rows(file)).toEqual(before);
  });

  it('rolls back a failing step entirely', () => {
    const broken: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'broken',
      up: (d) => {
        d.exec('CREATE TABLE half (a TEXT)');
        d.exec('THIS IS NOT SQL');
      },
    };
    const db = openDatabase(file);
    try {
      expect(() => migrate(db, [...MIGRATIONS, broken])).toThrow();
      expect(schemaVersion(db)).toBe(MIGRATIONS.length);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
    } finally {
      db.close();
    }
  });

  it('rejects a step list with gaps as a bug', () => {
    const db = openDatabase(file);
    try {
      expect(() => migrate(db, [MIGRATIONS[1]!])).toThrow(/must have version 1/);
    } finally {
      db.close();
    }
  });

  it('answers STORE_FAILED for a file that is not a database or a missing directory', async () => {
    await writeFile(file, 'this is not sqlite, just text that is long enough to fill a header........'.repeat(20));
    expect(codeOf(() => openSqliteStore(file))).toBe('STORE_FAILED');
    expect(codeOf(() => openSqliteStore(path.join(dir, 'missing', 'state.db')))).toBe('STORE_FAILED');
  });
});
