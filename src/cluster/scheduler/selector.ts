/**
 * Host label selectors, the Kubernetes syntax: comma-separated requirements,
 * all of which must hold. `k=v` (or `k==v`), `k!=v` (true when k is absent),
 * `k in (a,b)`, `k notin (a,b)` (true when k is absent), `k` (k present),
 * `!k` (k absent). Pure.
 */
import { fail } from '../../shared/index.js';

export type Requirement =
  | { readonly op: 'eq' | 'ne'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists' | 'absent'; readonly key: string };

export type Selector = readonly Requirement[];

const KEY = /^[A-Za-z0-9]([A-Za-z0-9_./-]{0,251}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/;

function bad(text: string, what: string): never {
  fail('HOST_SELECTOR_INVALID', `host selector ${JSON.stringify(text)}: ${what}`);
}

function key(text: string, k: string): string {
  if (!KEY.test(k)) bad(text, `${JSON.stringify(k)} is not a label key`);
  return k;
}

function value(text: string, v: string): string {
  if (!VALUE.test(v)) bad(text, `${JSON.stringify(v)} is not a label value`);
  return v;
}

/** Splits at commas outside parentheses. */
function parts(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0 || depth > 1) bad(text, 'unbalanced parentheses');
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (depth !== 0) bad(text, 'unbalanced parentheses');
  out.push(cur);
  return out.map((p) => p.trim());
}

function requirement(text: string, part: string): Requirement {
  if (part === '') bad(text, 'empty requirement (two commas, or a comma at an end)');
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
  if (set) {
    const values = set[3]!.split(',').map((v) => value(text, v.trim()));
    if (values.length === 0 || values.some((v) => v === '')) bad(text, `empty value in ${JSON.stringify(part)}`);
    return { op: set[2] === 'in' ? 'in' : 'notin', key: key(text, set[1]!), values };
  }
  const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
  if (cmp) return { op: cmp[2] === '!=' ? 'ne' : 'eq', key: key(text, cmp[1]!), value: value(text, cmp[3]!.trim()) };
  if (part.startsWith('!')) return { op: 'absent', key: key(text, part.slice(1).trim()) };
  return { op: 'exists', key: key(text, part) };
}

/** Parses a selector; throws HOST_SELECTOR_INVALID naming what is wrong. An empty text selects every host. */
export function parseSelector(text: string): Selector {
  if (text.trim() === '') return [];
  return parts(text).map((p) => requirement(text, p));
}

/** The first requirement the labels do not meet, or undefined when all hold. */
export function unmetRequirement(sel: Selector, labels: Readonly<Record<string, string>>): Requirement | undefined {
  for (const r of sel) {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = has ? labels[r.key] : undefined;
    let ok: boolean;
    switch (r.op) {
      case 'eq': ok = v === r.value; break;
      case 'ne': ok = v !== r.value; break;
      case 'in': ok = v !== undefined && r.values.includes(v); break;
      case 'notin': ok = v === undefined || !r.values.includes(v); break;
      case 'exists': ok = has; break;
      case 'absent': ok = !has; break;
    }
    if (!ok) return r;
  }
  return undefined;
}

/** A requirement as text, for reasons. */
export function formatRequirement(r: Requirement): string {
  switch (r.op) {
    case 'eq': return `${r.key}=${r.value}`;
    case 'ne': return `${r.key}!=${r.value}`;
    case 'in': return `${r.key} in (${r.values.join(',')})`;
    case 'notin': return `${r.key} notin (${r.values.join(',')})`;
    case 'exists': return r.key;
    case 'absent': return `!${r.key}`;
  }
}
