/**
 * The history file: one SQLite database beside the state database
 * (history.db), apart from it so its steady writes never queue behind state
 * changes. Each point is one row keyed by (series, ring, slot), so the table
 * is bounded by construction: 360 + 1440 rows per series. WAL with
 * synchronous=NORMAL: a commit is not fsynced (the WAL is, at checkpoints),
 * so a daemon crash loses nothing committed and a power loss at most the
 * last few samples — figures, not state, so that is the right trade.
 */
import Database from 'better-sqlite3';
import { slotOf, type Tier } from './tiers.js';

/** Up to 8 figures per point, in the order the caller's column list gives. */
const COLUMNS = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7'] as const;

export interface StoredPoint {
  series: string;
  tier: Tier;
  t: number;
  values: ReadonlyArray<number | null>;
}

export class HistoryDb {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement;
  private readonly select: Database.Statement;
  private readonly writeMany: (points: readonly StoredPoint[]) => void;

  /**
   * `file` ':memory:' keeps nothing across restarts (the fallback when the file
   * cannot be opened). `synchronous` FULL only for comparison (bench/history.ts).
   */
  constructor(readonly file: string, o: { synchronous?: 'NORMAL' | 'FULL' } = {}) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${o.synchronous ?? 'NORMAL'}`);
    this.db.exec(`CREATE TABLE IF NOT EXISTS points (
      series TEXT NOT NULL, tier INTEGER NOT NULL, slot INTEGER NOT NULL, t INTEGER NOT NULL,
      ${COLUMNS.map((c) => `${c} REAL`).join(', ')},
      PRIMARY KEY (series, tier, slot)) WITHOUT ROWID`);
    this.upsert = this.db.prepare(`INSERT OR REPLACE INTO points (series, tier, slot, t, ${COLUMNS.join(', ')}) VALUES (?, ?, ?, ?, ${COLUMNS.map(() => '?').join(', ')})`);
    this.select = this.db.prepare(`SELECT t, ${COLUMNS.join(', ')} FROM points WHERE series = ? AND tier = ? AND t > ? ORDER BY t`).raw(true);
    this.writeMany = this.db.transaction((points: readonly StoredPoint[]) => {
      for (const p of points) {
        const v = COLUMNS.map((_c, i) => p.values[i] ?? null);
        this.upsert.run(p.series, p.tier.id, slotOf(p.tier, p.t), p.t, ...v);
      }
    });
  }

  /** Writes the points of one sampling round in one transaction. */
  write(points: readonly StoredPoint[]): void {
    if (points.length > 0) this.writeMany(points);
  }

  /** Points of `series` in `tier` newer than `after` (epoch ms), oldest first: [t, ...values]. */
  read(series: string, tier: Tier, after: number): Array<Array<number | null>> {
    return this.select.all(series, tier.id, after) as Array<Array<number | null>>;
  }

  /** Forgets a series (a removed VM). */
  drop(series: string): void {
    this.db.prepare('DELETE FROM points WHERE series = ?').run(series);
  }

  /** Removes rows older than `before`: series no longer sampled leave no rows behind after a day. */
  prune(before: number): number {
    return this.db.prepare('DELETE FROM points WHERE t < ?').run(before).changes;
  }

  rowCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM points').get() as { n: number }).n;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
