/** Parsers of virsh's text output (LC_ALL=C). Pure. */
import { PolyvisorError } from '../../shared/index.js';

/** `virsh list --all --uuid --name`: "UUID NAME" lines. */
export function parseUuidNames(out: string): Array<{ uuid: string; name: string }> {
  const rows: Array<{ uuid: string; name: string }> = [];
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s+(.+)$/i.exec(line.trim());
    if (m) rows.push({ uuid: m[1]!.toLowerCase(), name: m[2]! });
    else if (line.trim() !== '') throw new PolyvisorError('ENDPOINT_PROTOCOL', `virsh list printed a line the driver does not understand: ${line.slice(0, 120)}`);
  }
  return rows;
}

/** `virsh domstats --raw`: per domain its key=value fields. */
export function parseDomstats(out: string): Map<string, Map<string, string>> {
  const all = new Map<string, Map<string, string>>();
  let cur: Map<string, string> | null = null;
  for (const raw of out.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const head = /^Domain: '(.*)'$/.exec(line);
    if (head) {
      cur = new Map();
      all.set(head[1]!, cur);
      continue;
    }
    const eq = line.indexOf('=');
    if (!cur || eq < 0) throw new PolyvisorError('ENDPOINT_PROTOCOL', `virsh domstats printed a line the driver does not understand: ${line.slice(0, 120)}`);
    cur.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return all;
}

/** A numeric field of a domstats row, or null. */
export function num(row: Map<string, string> | undefined, key: string): number | null {
  const v = row?.get(key);
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** The sum of `prefix.N.suffix` over N < `prefix.count`, or null if there are none. */
export function sumIndexed(row: Map<string, string> | undefined, prefix: string, suffix: string): number | null {
  const count = num(row, `${prefix}.count`) ?? 0;
  let total: number | null = null;
  for (let i = 0; i < count; i++) {
    const v = num(row, `${prefix}.${i}.${suffix}`);
    if (v !== null) total = (total ?? 0) + v;
  }
  return total;
}

/**
 * A virsh table (snapshot-list --parent…): columns start where the header's
 * words start (virsh pads every column to its widest cell), so cells with
 * spaces inside still land in the right column. Rows of objects keyed by the
 * header's words, lower-cased.
 */
export function parseTable(out: string): Array<Record<string, string>> {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const headerAt = lines.findIndex((l) => /^\s*Name\s{2,}/.test(l));
  if (headerAt < 0) return [];
  const header = lines[headerAt]!;
  const cols: Array<{ key: string; start: number }> = [];
  const re = /\S+(?: \S+)*/g;
  for (let m = re.exec(header); m; m = re.exec(header)) cols.push({ key: m[0].toLowerCase(), start: m.index });
  return lines.slice(headerAt + 1).filter((l) => !/^-+$/.test(l.trim())).map((l) => {
    const row: Record<string, string> = {};
    cols.forEach((c, i) => {
      const end = i + 1 < cols.length ? cols[i + 1]!.start : l.length;
      row[c.key] = l.slice(c.start, end).trim();
    });
    return row;
  });
}
