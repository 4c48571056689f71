/**
 * Opens the SQLite file with the settings every connection needs: WAL,
 * synchronous=FULL (a commit is on disk before the promise resolves, DESIGN
 * rule 8), foreign keys, and a busy timeout for a second process.
 */
import Database from 'better-sqlite3';
import { PolyvisorError } from '../../shared/index.js';

export type Db = Database.Database;

/** How long a writer waits for another connection's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

export function openDatabase(file: string): Db {
  let db: Db;
  try {
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  } catch (err) {
    throw new PolyvisorError('STORE_FAILED', `cannot open the state database ${file}`, {
      cause: err,
      hint: 'Check that the state directory exists and is writable by the daemon.',
    });
  }
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') throw new Error(`journal_mode stayed ${String(mode)}`);
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (err) {
    db.close();
    throw new PolyvisorError('STORE_FAILED', `cannot configure the state database ${file}`, {
      cause: err,
      hint: 'The file may not be a SQLite database, or its filesystem does not support WAL (e.g. some network mounts).',
    });
  }
  return db;
}

/**
 * Prepared statements kept by their SQL text, for queries whose text is built
 * per call (a WHERE of the filters given): preparing costs more than running
 * a small query, and list calls run on every API request. Values are always
 * bound parameters, so the texts are few (one per combination of filters);
 * past `max` the cache starts over.
 */
export function statementCache(db: Db, max = 64): <P extends unknown[], R>(sql: string) => Database.Statement<P, R> {
  const cache = new Map<string, Database.Statement<unknown[], unknown>>();
  return <P extends unknown[], R>(sql: string): Database.Statement<P, R> => {
    let st = cache.get(sql);
    if (st === undefined) {
      if (cache.size >= max) cache.clear();
      st = db.prepare<unknown[], unknown>(sql);
      cache.set(sql, st);
    }
    return st as unknown as Database.Statement<P, R>;
  };
}

/** Error codes better-sqlite3 puts on SqliteError (e.g. SQLITE_CONSTRAINT_UNIQUE). */
export function sqliteCode(err: unknown): string | undefined {
  if (err instanceof Database.SqliteError) return err.code;
  return undefined;
}

/**
 * Runs `fn`; a SQLite failure becomes STORE_FAILED naming `what`. Catalogue
 * errors and bugs (plain Error) pass through unchanged.
 */
export function guard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toStoreError(what, err);
  }
}

/** STORE_FAILED for a SqliteError; anything else is returned as it is. */
export function toStoreError(what: string, err: unknown): unknown {
  const code = sqliteCode(err);
  if (code === undefined) return err;
  const busy = code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
  return new PolyvisorError('STORE_FAILED', `${what} failed in the state database`, {
    cause: err,
    ...(busy ? { hint: 'Another process holds the state database lock; is a second polyvisord using this state directory?' } : {}),
  });
}
