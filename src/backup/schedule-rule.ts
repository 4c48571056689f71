/**
 * When a backup schedule runs (docs/snapshots-backups.md, "Schedules"). A
 * small, documented grammar instead of cron, all times UTC:
 *   every 30s | every 15m | every 6h | every 1d   (5 s at least)
 *   daily 02:00
 *   weekly sun 03:30
 * The next run follows the last run (or the schedule's creation): an
 * interval after it, or the first matching time after it. A run missed
 * while the daemon was down is therefore due at once, and runs once.
 */
import { fail } from '../shared/index.js';

export type ScheduleRule =
  | { kind: 'every'; ms: number }
  | { kind: 'daily'; minute: number }
  | { kind: 'weekly'; day: number; minute: number };

const UNIT: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function hhmm(t: string, text: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(t);
  if (!m) fail('INVALID_ARGUMENT', `"${text}": the time must be HH:MM (UTC), e.g. 02:00`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export function parseRule(text: string): ScheduleRule {
  const parts = text.trim().toLowerCase().split(/\s+/);
  if (parts[0] === 'every' && parts.length === 2) {
    const m = /^(\d{1,6})([smhd])$/.exec(parts[1]!);
    if (!m) fail('INVALID_ARGUMENT', `"${text}": write every <number><s|m|h|d>, e.g. every 6h`);
    const ms = Number(m[1]) * UNIT[m[2]!]!;
    if (ms < 5000) fail('INVALID_ARGUMENT', `"${text}": the interval is at least 5s`);
    return { kind: 'every', ms };
  }
  if (parts[0] === 'daily' && parts.length === 2) return { kind: 'daily', minute: hhmm(parts[1]!, text) };
  if (parts[0] === 'weekly' && parts.length === 3) {
    const day = DAYS.indexOf(parts[1]!.slice(0, 3));
    if (day < 0) fail('INVALID_ARGUMENT', `"${text}": the day is one of ${DAYS.join(', ')}`);
    return { kind: 'weekly', day, minute: hhmm(parts[2]!, text) };
  }
  fail('INVALID_ARGUMENT', `"${text}" is not a schedule: use "every 6h", "daily 02:00" or "weekly sun 03:30" (UTC)`);
}

/** The first run strictly after `after`. */
export function nextRun(rule: ScheduleRule, after: Date): Date {
  if (rule.kind === 'every') return new Date(after.getTime() + rule.ms);
  const day0 = Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate());
  for (let i = 0; i <= 7; i++) {
    const t = new Date(day0 + i * 86_400_000 + rule.minute * 60_000);
    if (t.getTime() <= after.getTime()) continue;
    if (rule.kind === 'weekly' && t.getUTCDay() !== rule.day) continue;
    return t;
  }
  throw new Error('unreachable: a weekly time repeats within 8 days');
}
