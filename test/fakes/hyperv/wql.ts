/**
 * The part of WQL the fake answers: SELECT * FROM Class [WHERE cond [AND
 * cond]…], a cond being Prop = "v" (or 'v', or a number), Prop != v, or
 * Prop LIKE "v%" (% any run, _ one character); parentheses around ANDs (as
 * libvirt's Hyper-V driver writes its "active" filter) are allowed. Anything
 * else (OR, NOT, ASSOCIATORS OF…) is refused as WMI refuses a query it
 * cannot parse (the fault CannotProcessFilter).
 */
import type { Instance } from './instances.js';

export interface Query {
  cls: string;
  conds: Array<{ prop: string; op: '=' | '!=' | 'like'; value: string }>;
}

const SELECT = /^\s*select\s+\*\s+from\s+(\w+)\s*(?:where\s+(.+))?$/is;
const COND = /^\s*(\w+)\s*(!=|<>|=|like)\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(-?\d+))\s*$/is;

export function parseWql(q: string): Query | null {
  const m = SELECT.exec(q);
  if (!m) return null;
  const conds: Query['conds'] = [];
  if (m[2]) {
    if (/\b(or|not)\b/i.test(m[2].replace(/"[^"]*"|'[^']*'/g, ''))) return null;
    const flat = m[2].replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[()]/g, (t) => (t === '(' || t === ')' ? ' ' : t));
    for (const part of flat.split(/\s+and\s+/i)) {
      const c = COND.exec(part);
      if (!c) return null;
      const raw = c[3] ?? c[4] ?? c[5] ?? '';
      const op = c[2]!.toLowerCase() === '<>' ? '!=' : (c[2]!.toLowerCase() as '=' | '!=' | 'like');
      conds.push({ prop: c[1]!, op, value: raw.replace(/\\(.)/g, '$1') });
    }
  }
  return { cls: m[1]!, conds };
}

function like(v: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, 'is');
  return re.test(v);
}

export function matches(i: Instance, q: Query): boolean {
  if (i.cls.toLowerCase() !== q.cls.toLowerCase()) return false;
  return q.conds.every((c) => {
    const v = i.props[Object.keys(i.props).find((k) => k.toLowerCase() === c.prop.toLowerCase()) ?? ''];
    if (typeof v !== 'string') return c.op === '!=';
    if (c.op === 'like') return like(v, c.value);
    return (v.toLowerCase() === c.value.toLowerCase()) === (c.op === '=');
  });
}
