/**
 * Variables of a stack file: `${var.name}` anywhere in a string value,
 * defaults from `variables:`, values from `--var k=v` and `--var-file`.
 * A string that is exactly one `${var.x}` takes the variable's value with
 * its type (so `memory: ${var.mem}` and `count: ${var.n}` work); inside a
 * longer string it is spliced in as text. Pure.
 */
import { fail } from '../shared/index.js';

export type VarValue = string | number | boolean;

const REF = /\$\{var\.([A-Za-z_][A-Za-z0-9_]*)\}/g;
const WHOLE = /^\$\{var\.([A-Za-z_][A-Za-z0-9_]*)\}$/;

interface Problem { field: string; message: string }

/** The declared variables with their defaults: `name: default` or `name: {default, description}`. */
function declared(doc: Record<string, unknown>): Map<string, VarValue | undefined> {
  const out = new Map<string, VarValue | undefined>();
  const vars = doc['variables'];
  if (typeof vars !== 'object' || vars === null || Array.isArray(vars)) return out;
  for (const [k, v] of Object.entries(vars)) {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const d = (v as Record<string, unknown>)['default'];
      out.set(k, typeof d === 'string' || typeof d === 'number' || typeof d === 'boolean' ? d : undefined);
    } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.set(k, v);
    else out.set(k, undefined);
  }
  return out;
}

/** A given value (always text from the command line) in the type of the default: "512" for a number default is 512. */
function coerce(given: string, def: VarValue | undefined): VarValue {
  if (typeof def === 'number' && /^-?\d+(\.\d+)?$/.test(given)) return Number(given);
  if (typeof def === 'boolean' && (given === 'true' || given === 'false')) return given === 'true';
  if (def === undefined && /^\d+$/.test(given)) return Number(given);
  return given;
}

/**
 * Substitutes every `${var.x}` of `doc` (except inside `variables:` itself).
 * Throws STACK_INVALID naming each unknown variable or one without a value
 * with the path where it is used, and each given value the file does not declare.
 */
export function interpolate(doc: Record<string, unknown>, given: Record<string, string> = {}): Record<string, unknown> {
  const decl = declared(doc);
  const problems: Problem[] = [];
  for (const k of Object.keys(given)) {
    if (!decl.has(k)) problems.push({ field: `variables.${k}`, message: `a value was given for ${k}, and the stack declares no such variable` });
  }
  const value = (name: string, path: string): VarValue | undefined => {
    if (!decl.has(name)) {
      problems.push({ field: path, message: `\${var.${name}} names no variable of the stack (declare it under variables:)` });
      return undefined;
    }
    const g = given[name];
    const v = g !== undefined ? coerce(g, decl.get(name)) : decl.get(name);
    if (v === undefined) problems.push({ field: path, message: `variable ${name} has no default and no value was given (--var ${name}=VALUE)` });
    return v;
  };
  const walk = (x: unknown, path: string): unknown => {
    if (typeof x === 'string') {
      const whole = WHOLE.exec(x);
      if (whole) return value(whole[1]!, path) ?? x;
      return x.replace(REF, (m, name: string) => {
        const v = value(name, path);
        return v === undefined ? m : String(v);
      });
    }
    if (Array.isArray(x)) return x.map((e, i) => walk(e, `${path}.${i}`));
    if (typeof x === 'object' && x !== null) {
      return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, walk(v, path === '' ? k : `${path}.${k}`)]));
    }
    return x;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) out[k] = k === 'variables' ? v : walk(v, k);
  if (problems.length > 0) {
    fail('STACK_INVALID', `invalid stack: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, { details: problems });
  }
  return out;
}
