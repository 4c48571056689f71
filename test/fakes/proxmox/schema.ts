/**
 * The fake's contract: the methods of Proxmox VE's published API schema it
 * serves (schema-excerpt.json, taken from pve-docs' api-viewer/apidata.js; its
 * source is named in the file). Requests are checked against the parameters
 * as pve-http-server checks them, with the same messages; answers are checked
 * against the documented return shapes, so the fake cannot drift from them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface ParamSchema {
  type: 'string' | 'integer' | 'number' | 'boolean';
  optional?: number;
  enum?: string[];
  minimum?: number | string;
  maximum?: number | string;
  pattern?: string;
  maxLength?: number;
  minLength?: number;
  format?: string;
}

export interface ReturnSchema {
  type?: string;
  optional?: number;
  enum?: string[];
  properties?: Record<string, ReturnSchema>;
  items?: ReturnSchema;
}

export interface MethodSchema {
  allowtoken: number;
  protected?: number;
  subset?: number;
  parameters: Record<string, ParamSchema>;
  returns: ReturnSchema;
}

interface Excerpt {
  source: { repository: string; path: string; commit: string; note: string };
  methods: Record<string, MethodSchema>;
}

const file = path.join(import.meta.dirname, 'schema-excerpt.json');
export const EXCERPT = JSON.parse(readFileSync(file, 'utf8')) as Excerpt;

/** "POST /nodes/{node}/qemu/{vmid}/snapshot" → its schema; a bug when absent. */
export function methodSchema(key: string): MethodSchema {
  const m = EXCERPT.methods[key];
  if (!m) throw new Error(`fake proxmox: ${key} is not in the schema excerpt`);
  return m;
}

const BOOL = /^(1|0|true|false|on|off|yes|no)$/i;
// pve-common's PVE::JSONSchema formats the excerpt uses.
const FORMATS: Record<string, { re: RegExp; msg: (v: string) => string }> = {
  'pve-node': { re: /^(?=.{1,63}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/, msg: (v) => `value '${v}' does not look like a valid node name` },
  'pve-configid': { re: /^[a-z][a-z0-9_-]+$/i, msg: (v) => `invalid configuration ID '${v}'` },
  'dns-name': { re: /^(?=.{1,255}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/, msg: (v) => `value '${v}' does not look like a valid DNS name` },
  'pve-realm': { re: /^[A-Za-z][A-Za-z0-9.\-_]+$/, msg: (v) => `value '${v}' does not look like a valid realm` },
};

/** One parameter's check, with pve-common's message; null when it passes. */
function checkOne(s: ParamSchema, v: string): string | null {
  if (s.type === 'integer' && !/^-?\d+$/.test(v)) return `type check ('integer') failed - got '${v}'`;
  if (s.type === 'number' && !/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) return `type check ('number') failed - got '${v}'`;
  if (s.type === 'boolean' && !BOOL.test(v)) return `type check ('boolean') failed - got '${v}'`;
  if (s.type === 'integer' || s.type === 'number') {
    const n = Number(v);
    if (s.minimum !== undefined && n < Number(s.minimum)) return `value must have a minimum value of ${s.minimum}`;
    if (s.maximum !== undefined && n > Number(s.maximum)) return `value must have a maximum value of ${s.maximum}`;
  }
  if (s.type === 'string') {
    if (s.maxLength !== undefined && v.length > s.maxLength) return `value may only be ${s.maxLength} characters long`;
    if (s.minLength !== undefined && v.length < s.minLength) return `value must be at least ${s.minLength} characters long`;
    if (s.enum && !s.enum.includes(v)) return `value '${v}' does not have a value in the enumeration '${s.enum.join(', ')}'`;
    if (s.pattern && !new RegExp(`^(${s.pattern})$`).test(v)) return 'value does not match the regex pattern';
    const f = s.format ? FORMATS[s.format] : undefined;
    if (f && !f.re.test(v)) return f.msg(v);
  }
  return null;
}

/** The "errors" object of a 400 "Parameter verification failed." answer, or null when the parameters are valid. */
export function verifyParams(m: MethodSchema, params: Record<string, string>): Record<string, string> | null {
  const errors: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    const s = m.parameters[k];
    if (!s) errors[k] = 'property is not defined in schema and the schema does not allow additional properties';
    else {
      const e = checkOne(s, v);
      if (e) errors[k] = e;
    }
  }
  for (const [k, s] of Object.entries(m.parameters)) {
    if (!s.optional && params[k] === undefined) errors[k] = 'property is missing and it is not optional';
  }
  return Object.keys(errors).length ? errors : null;
}

/** Where `data` departs from the documented return shape (empty when it does not): a fake bug. */
export function returnProblems(r: ReturnSchema, data: unknown, at = 'data'): string[] {
  if (data === null || data === undefined) return r.optional || r.type === 'null' ? [] : [`${at}: missing`];
  const t = r.type;
  const bad = (want: string): string[] => [`${at}: want ${want}, got ${JSON.stringify(data).slice(0, 60)}`];
  if (t === 'string') return typeof data === 'string' ? (r.enum && !r.enum.includes(data) ? bad(r.enum.join('|')) : []) : bad('string');
  if (t === 'integer') return Number.isInteger(data) ? [] : bad('integer');
  if (t === 'number') return typeof data === 'number' ? [] : bad('number');
  // Proxmox's Perl serializes booleans as 0/1.
  if (t === 'boolean') return data === 0 || data === 1 || typeof data === 'boolean' ? [] : bad('boolean');
  if (t === 'array') return Array.isArray(data) ? data.flatMap((x, i) => (r.items ? returnProblems(r.items, x, `${at}[${i}]`) : [])) : bad('array');
  if (t === 'object') {
    if (typeof data !== 'object' || Array.isArray(data)) return bad('object');
    const o = data as Record<string, unknown>;
    const out: string[] = [];
    for (const [k, s] of Object.entries(r.properties ?? {})) out.push(...returnProblems(s, o[k], `${at}.${k}`));
    return out;
  }
  return [];
}
