/**
 * The fake's view of XAPI's datamodel (datamodel-excerpt.json, written out
 * from xapi-project/xen-api's ocaml/idl): which messages exist, their
 * parameter lists (checked on every call: count and wire types), and the
 * fields of each class (every record the fake returns is checked to carry
 * exactly these; departures are collected as `problems`).
 */
import { readFileSync } from 'node:fs';
import { XapiFault } from './faults.js';

interface ClassDef {
  fields: Record<string, string>;
  messages: Record<string, [string, string][]>;
  async?: string[];
}

interface Excerpt {
  classes: Record<string, ClassDef>;
  enums: Record<string, string[]>;
  errors: Record<string, string[]>;
}

export const DATAMODEL = JSON.parse(readFileSync(new URL('./datamodel-excerpt.json', import.meta.url), 'utf8')) as Excerpt;

/** Class name as the IDL spells it from a method prefix ("vm" in event.from classes, "VM" in calls). */
export function className(c: string): string | undefined {
  return Object.keys(DATAMODEL.classes).find((k) => k.toLowerCase() === c.toLowerCase());
}

/** The parameter list of `Class.message` (generated getters included), without the session; undefined when unknown. */
export function signature(cls: string, msg: string): [string, string][] | undefined {
  const def = DATAMODEL.classes[cls];
  if (!def) return undefined;
  if (def.messages[msg]) return def.messages[msg];
  const hasFields = Object.keys(def.fields).length > 0;
  if (!hasFields) return undefined;
  if (msg === 'get_all' || msg === 'get_all_records') return [];
  if (msg === 'get_record') return [['self', `${cls} ref`]];
  if (msg === 'get_by_uuid') return [['uuid', 'string']];
  if (msg === 'get_by_name_label' && 'name_label' in def.fields) return [['label', 'string']];
  const m = /^get_(.+)$/.exec(msg);
  if (m && m[1]! in def.fields) return [['self', `${cls} ref`]];
  return undefined;
}

export function isAsync(cls: string, msg: string): boolean {
  return DATAMODEL.classes[cls]?.async?.includes(msg) ?? false;
}

/** FIELD_TYPE_ERROR naming the parameter when a value does not have its declared wire type. */
export function checkParam(name: string, type: string, v: unknown): void {
  const ok = type.endsWith(' ref') ? typeof v === 'string'
    : type.endsWith(' set') ? Array.isArray(v)
      : type.endsWith(' map') ? v !== null && typeof v === 'object' && !Array.isArray(v)
        : type === 'bool' ? typeof v === 'boolean'
          : type === 'int' ? (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v))
            : type === 'float' ? typeof v === 'number' || (typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)))
              : typeof v === 'string';
  if (!ok) throw new XapiFault('FIELD_TYPE_ERROR', [name]);
}

/** What is wrong with a record of `cls` (missing or extra fields, enum values outside the enum). */
export function recordProblems(cls: string, rec: Record<string, unknown>): string[] {
  const def = DATAMODEL.classes[cls];
  if (!def) return [`no class ${cls}`];
  const out: string[] = [];
  for (const [f, t] of Object.entries(def.fields)) {
    if (!(f in rec)) out.push(`${cls}.${f} missing`);
    const en = /^enum (\w+)$/.exec(t);
    if (en && DATAMODEL.enums[en[1]!] && !DATAMODEL.enums[en[1]!]!.includes(String(rec[f]))) out.push(`${cls}.${f} = ${String(rec[f])} is not a ${en[1]}`);
  }
  for (const f of Object.keys(rec)) if (!(f in def.fields)) out.push(`${cls}.${f} is not in the datamodel excerpt`);
  return out;
}
