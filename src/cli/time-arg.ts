/**
 * Times on the command line: a span from now ("90d", "12h", "30m", "45s",
 * "2w") or an ISO 8601 date or time ("2027-01-31", "2027-01-31T12:00:00Z").
 * `--expires 90d` means 90 days ahead; `--since 1h` means an hour ago.
 */
import { fail } from '../shared/index.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** The ISO time `text` names; spans count forward (`ahead`) or back from `now`. */
export function parseTimeArg(text: string, flag: string, direction: 'ahead' | 'ago', now = Date.now()): string {
  const span = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  if (span) {
    const ms = Number(span[1]) * UNIT_MS[span[2]!]!;
    return new Date(direction === 'ahead' ? now + ms : now - ms).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    const t = Date.parse(text.trim());
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  return fail('INVALID_ARGUMENT', `${flag} ${JSON.stringify(text)} must be a span like 90d, 12h, 30m (${direction === 'ahead' ? 'from now' : 'ago'}) or a date like 2027-01-31 or 2027-01-31T12:00:00Z`);
}
