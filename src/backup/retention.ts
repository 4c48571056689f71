/**
 * Retention: which backups a policy keeps. keep-last keeps the newest N;
 * keep-hourly/daily/weekly/monthly/yearly keep the newest backup of each of
 * the newest N hours/days/ISO weeks/months/years that have one (UTC). The
 * union is kept, plus every ancestor of a kept incremental, so pruning never
 * breaks a chain that is still needed.
 */
export interface RetentionPolicy {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
}

export interface Prunable { id: string; parent: string | null; createdAt: string }

const RULES: Array<[keyof RetentionPolicy, (d: Date) => string]> = [
  ['keepHourly', (d) => d.toISOString().slice(0, 13)],
  ['keepDaily', (d) => d.toISOString().slice(0, 10)],
  ['keepWeekly', (d) => isoWeek(d)],
  ['keepMonthly', (d) => d.toISOString().slice(0, 7)],
  ['keepYearly', (d) => d.toISOString().slice(0, 4)],
];

function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const year = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

export function isEmptyPolicy(p: RetentionPolicy): boolean {
  return Object.values(p).every((v) => v === undefined || v === 0);
}

/** Ids to keep, and why each is kept. */
export function selectKept<T extends Prunable>(records: readonly T[], p: RetentionPolicy): Map<string, string[]> {
  const newest = [...records].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  const kept = new Map<string, string[]>();
  const keep = (id: string, why: string) => kept.set(id, [...(kept.get(id) ?? []), why]);
  newest.slice(0, p.keepLast ?? 0).forEach((r) => keep(r.id, 'last'));
  for (const [rule, bucketOf] of RULES) {
    const n = p[rule] ?? 0;
    const seen = new Set<string>();
    for (const r of newest) {
      if (seen.size >= n) break;
      const b = bucketOf(new Date(r.createdAt));
      if (seen.has(b)) continue;
      seen.add(b);
      keep(r.id, rule.slice(4).toLowerCase());
    }
  }
  const byId = new Map(records.map((r) => [r.id, r]));
  for (const id of [...kept.keys()]) {
    for (let parent = byId.get(id)?.parent ?? null; parent !== null; parent = byId.get(parent)?.parent ?? null) keep(parent, `base of ${id}`);
  }
  return kept;
}
