/**
 * XML-RPC values (`<value>` with `<struct>`, `<array>`, `<string>`,
 * `<boolean>`, `<int>`/`<i4>`/`<i8>`, `<double>`, `<dateTime.iso8601>`, or
 * bare text) → plain values, as XenServer/XCP-ng write them in an XVA's
 * `ova.xml`. Bounded: at most 64 levels deep and 200,000 values. Pure.
 */
import { fail } from '../shared/index.js';
import { localName, type XmlElement } from './safe-xml.js';

export type RpcValue = string | boolean | number | RpcValue[] | RpcStruct;
export interface RpcStruct { [member: string]: RpcValue }

const MAX_DEPTH = 64;
const MAX_VALUES = 200_000;

/** Reads a `<value>` element; `what` names the document in errors. */
export function rpcValue(v: XmlElement, what: string): RpcValue {
  const budget = { left: MAX_VALUES };
  return read(v, what, 0, budget);
}

function read(v: XmlElement, what: string, depth: number, budget: { left: number }): RpcValue {
  if (localName(v.name) !== 'value') fail('INTERCHANGE_INVALID', `${what}: <${v.name}> where a <value> belongs`);
  if (depth > MAX_DEPTH) fail('INTERCHANGE_INVALID', `${what}: values nested deeper than ${MAX_DEPTH}`);
  if (--budget.left < 0) fail('INTERCHANGE_INVALID', `${what}: more than ${MAX_VALUES} values`);
  const typed = v.children[0];
  if (typed === undefined) return v.text;
  if (v.children.length > 1) fail('INTERCHANGE_INVALID', `${what}: a <value> with ${v.children.length} typed children`);
  const kind = localName(typed.name);
  switch (kind) {
    case 'string': return typed.text;
    case 'boolean': return /^\s*(1|true)\s*$/i.test(typed.text);
    case 'int': case 'i4': case 'i8': case 'double': {
      const n = Number(typed.text.trim());
      if (!Number.isFinite(n)) fail('INTERCHANGE_INVALID', `${what}: <${kind}>${typed.text.slice(0, 40)}</${kind}> is not a number`);
      return n;
    }
    case 'dateTime.iso8601': case 'base64': return typed.text.trim();
    case 'array': {
      const data = typed.children.find((c) => localName(c.name) === 'data');
      return (data?.children ?? []).map((c) => read(c, what, depth + 1, budget));
    }
    case 'struct': {
      const out: RpcStruct = {};
      for (const m of typed.children) {
        if (localName(m.name) !== 'member') continue;
        const name = m.children.find((c) => localName(c.name) === 'name')?.text.trim();
        const value = m.children.find((c) => localName(c.name) === 'value');
        if (name === undefined || value === undefined) fail('INTERCHANGE_INVALID', `${what}: a <member> without its <name> or <value>`);
        if (name === '__proto__' || name === 'constructor' || name === 'prototype') continue;
        out[name] = read(value, what, depth + 1, budget);
      }
      return out;
    }
    default:
      return fail('INTERCHANGE_INVALID', `${what}: <${typed.name}> is not an XML-RPC value type`);
  }
}

export const isStruct = (v: RpcValue | undefined): v is RpcStruct => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A member as text ('' when absent or not text). */
export const rpcText = (s: RpcStruct | undefined, k: string): string => {
  const v = s?.[k];
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
};
export const rpcStruct = (s: RpcStruct | undefined, k: string): RpcStruct => {
  const v = s?.[k];
  return isStruct(v) ? v : {};
};
export const rpcList = (s: RpcStruct | undefined, k: string): RpcValue[] => {
  const v = s?.[k];
  return Array.isArray(v) ? v : [];
};
export const rpcBool = (s: RpcStruct | undefined, k: string): boolean => {
  const v = s?.[k];
  return v === true || (typeof v === 'string' && /^(true|1)$/i.test(v));
};
