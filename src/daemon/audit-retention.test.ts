import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../shared/index.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/index.js';
import { AuditRetention } from './audit-retention.js';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const DAY = 86_400_000;
let dir: string;
let store: SqliteStore;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pv-audit-'));
  store = openSqliteStore(path.join(dir, 'state.db'));
  // 3 entries of September, 2 of October (past 30 days), 2 recent.
  for (const [i, daysAgo] of [90, 80, 70, 40, 35, 5, 1].entries()) {
    await store.appendAudit({ at: new Date(NOW - daysAgo * DAY).toISOString(), actor: 'ops', action: `POST /v1/vms/a${i}/start`, resource: `a${i}`, outcome: 'ok', status: 200, detail: {} });
  }
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('audit retention', () => {
  it('removes entries past the retention and keeps the rest', async () => {
    const r = await new AuditRetention({ store, days: 30, logger: silentLogger }).runOnce(NOW);
    expect(r).toEqual({ removed: 5, archived: 0 });
    expect((await store.listAudit()).map((e) => e.resource)).toEqual(['a6', 'a5']);
  });

  it('archives each entry as a JSON line in its month\'s file (0600) before removing it', async () => {
    const archiveDir = path.join(dir, 'archive');
    const r = await new AuditRetention({ store, days: 30, archiveDir, logger: silentLogger }).runOnce(NOW);
    expect(r).toEqual({ removed: 5, archived: 5 });
    const month = (m: string) => readFileSync(path.join(archiveDir, `audit-2026-${m}.jsonl`), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { resource: string }).resource);
    expect(month('09')).toEqual(['a0', 'a1', 'a2']);
    expect(month('10')).toEqual(['a3', 'a4']);
    expect(statSync(path.join(archiveDir, 'audit-2026-10.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('an archive that cannot be written stops the pruning: nothing is lost', async () => {
    const archiveDir = path.join(dir, 'not-a-dir');
    writeFileSync(archiveDir, 'a file where the folder should be');
    await expect(new AuditRetention({ store, days: 30, archiveDir, logger: silentLogger }).runOnce(NOW)).rejects.toThrow();
    expect(await store.listAudit()).toHaveLength(7);
  });

  it('0 days keeps everything; --since style filters list from a time', async () => {
    expect(await new AuditRetention({ store, days: 0, logger: silentLogger }).runOnce(NOW)).toEqual({ removed: 0, archived: 0 });
    expect((await store.listAudit({ since: new Date(NOW - 10 * DAY).toISOString() })).map((e) => e.resource)).toEqual(['a6', 'a5']);
  });
});
