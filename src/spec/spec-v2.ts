/**
 * Spec v2 (topology and devices) on top of v1: v2 only adds fields, so the
 * upgrade from v1 changes nothing but the version, and a spec that uses none
 * of them is written as v1, exactly as before (old Polyvisors keep reading it).
 * `memory: {size, numa, …}` is lifted into `memory` (bytes) and `memoryLayout`.
 */
import { fail } from '../shared/index.js';
import { MEMORY_LAYOUT_KEYS } from './topology-schema.js';

type Doc = Record<string, unknown>;
const isObj = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The v2 fields a document uses, as users write them (empty for a v1 document). */
export function v2FieldsOf(doc: Doc): string[] {
  const out: string[] = [];
  const cpu = doc['cpu'];
  if (isObj(cpu)) {
    for (const k of ['topology', 'max', 'pinning']) if (cpu[k] !== undefined) out.push(`cpu.${k}`);
    if (isObj(cpu['model'])) out.push('cpu.model.flags');
  }
  if (isObj(doc['memory'])) out.push('memory.{…}');
  if (doc['memoryLayout'] !== undefined) out.push('memoryLayout');
  if (doc['devices'] !== undefined) out.push('devices');
  return out;
}

/** upgraders[1]: a v1 document is a v2 document; one naming v2 fields was written for v2. */
export function upgradeV1(doc: Doc): Doc {
  const v2 = v2FieldsOf(doc);
  if (v2.length) {
    fail('SPEC_INVALID', `invalid spec: ${v2.join(', ')} ${v2.length === 1 ? 'is a field' : 'are fields'} of spec version 2, but the spec says version 1`, {
      details: v2.map((field) => ({ field, message: 'is a spec version 2 field: set version: 2' })),
    });
  }
  return doc;
}

/** `memory: {size, numa, hugepages, balloon, max}` → `memory: size` + `memoryLayout: {…}`. */
export function liftMemory(doc: Doc): Doc {
  const m = doc['memory'];
  if (!isObj(m)) return doc;
  const layout: Doc = {};
  const rest: Doc = {};
  for (const [k, v] of Object.entries(m)) {
    if ((MEMORY_LAYOUT_KEYS as readonly string[]).includes(k)) layout[k] = v;
    else if (k !== 'size') rest[k] = v;
  }
  const out: Doc = { ...doc, memoryLayout: { ...layout, ...rest } }; // unknown keys reach the strict schema and are named
  if (m['size'] === undefined) delete out['memory'];
  else out['memory'] = m['size'];
  return out;
}

/** Where the normalized spec says `memoryLayout`, the user wrote `memory`. */
export const userField = (field: string): string => field.replace(/^memoryLayout(?=\.|$)/, 'memory');

/** The lowest version that holds a normalized spec. */
export function versionFor(spec: { cpu: object; memoryLayout?: unknown; devices?: unknown }): 1 | 2 {
  const cpu = spec.cpu as Doc;
  return spec.memoryLayout !== undefined || spec.devices !== undefined || ['dies', 'max', 'flags', 'pinning'].some((k) => cpu[k] !== undefined) ? 2 : 1;
}
