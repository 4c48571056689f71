/**
 * The audit log's retention (issue 23): entries older than `days` (90 by
 * default, `auditRetentionDays`) are removed at start and every hour. With an
 * archive folder (`auditArchiveDir`) each entry is first appended, as one JSON
 * line, to `audit-YYYY-MM.jsonl` there (mode 0600), and removed only once it
 * is written: an archive that cannot be written stops the pruning, it never
 * loses entries. The row cap in the store (100,000) still holds between runs.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../shared/index.js';
import type { AuditView } from '../spec/index.js';
import type { AuditStore } from '../store/index.js';

const DAY_MS = 86_400_000;
const BATCH = 5_000;

export interface AuditRetentionOptions {
  store: AuditStore;
  /** Keep entries this many days; 0 keeps them forever. */
  days: number;
  archiveDir?: string | undefined;
  logger: Logger;
  intervalMs?: number;
}

export class AuditRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly o: AuditRetentionOptions) {}

  /** Removes (archiving first, when asked) every entry older than the retention. */
  async runOnce(now = Date.now()): Promise<{ removed: number; archived: number }> {
    if (this.o.days <= 0) return { removed: 0, archived: 0 };
    const cutoff = new Date(now - this.o.days * DAY_MS).toISOString();
    let removed = 0;
    let archived = 0;
    for (;;) {
      const rows = await this.o.store.auditOlderThan(cutoff, BATCH);
      if (rows.length === 0) break;
      if (this.o.archiveDir !== undefined) archived += await this.archive(rows);
      removed += await this.o.store.deleteAuditThrough(rows[rows.length - 1]!.id);
      if (rows.length < BATCH) break;
    }
    if (removed > 0) this.o.logger.info({ removed, archived, olderThan: cutoff }, 'audit entries past their retention removed');
    return { removed, archived };
  }

  start(): void {
    const tick = (): void => {
      this.running = this.runOnce().catch((err: unknown) => this.o.logger.error({ err }, 'pruning the audit log failed; entries are kept'));
    };
    tick();
    this.timer = setInterval(tick, this.o.intervalMs ?? 3_600_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async archive(rows: AuditView[]): Promise<number> {
    const dir = this.o.archiveDir!;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const byMonth = new Map<string, string[]>();
    for (const r of rows) {
      const month = r.at.slice(0, 7);
      byMonth.set(month, [...(byMonth.get(month) ?? []), JSON.stringify(r)]);
    }
    for (const [month, lines] of byMonth) {
      await appendFile(path.join(dir, `audit-${/^\d{4}-\d{2}$/.test(month) ? month : 'unknown'}.jsonl`), lines.join('\n') + '\n', { mode: 0o600 });
    }
    return rows.length;
  }
}
