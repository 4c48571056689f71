/**
 * WMI instances as WinRM writes them (one child element per property, a nil
 * property with xsi:nil, an array property as repeated elements) read into
 * plain records; embedded instances (the string parameters Hyper-V's methods
 * take) written in DMTF CIM-XML; WMI object paths (Parent, HostResource) read
 * back to the key they name. Pure.
 */
import { localName, type XmlElement } from '../../interchange/safe-xml.js';
import { xmlEscape } from './wsman-escape.js';

export type CimValue = string | string[] | null;

export interface CimInstance {
  cls: string;
  props: Record<string, CimValue>;
}

export function readInstance(el: XmlElement): CimInstance {
  const props: Record<string, CimValue> = {};
  for (const c of el.children) {
    const k = localName(c.name);
    const nil = Object.entries(c.attrs).some(([a, v]) => localName(a) === 'nil' && v === 'true');
    const v = nil ? null : c.text;
    const had = props[k];
    if (had === undefined) props[k] = v;
    else if (v !== null) props[k] = Array.isArray(had) ? [...had, v] : had === null ? [v] : [had, v];
  }
  return { cls: localName(el.name), props };
}

export const str = (i: CimInstance, k: string): string | null => {
  const v = i.props[k];
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
};
export const num = (i: CimInstance, k: string): number | null => {
  const s = str(i, k);
  return s !== null && s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : null;
};
export const arr = (i: CimInstance, k: string): string[] => {
  const v = i.props[k];
  return v === null || v === undefined ? [] : Array.isArray(v) ? v : [v];
};

export type EmbeddedProps = Record<string, { type: string; value: string | string[] }>;

/** An embedded instance in CIM-XML (DSP0201), as ModifyResourceSettings, CreateSnapshot… take them. */
export function embedded(cls: string, props: EmbeddedProps): string {
  const body = Object.entries(props).map(([k, { type, value }]) => Array.isArray(value)
    ? `<PROPERTY.ARRAY NAME="${k}" TYPE="${type}"><VALUE.ARRAY>${value.map((v) => `<VALUE>${xmlEscape(v)}</VALUE>`).join('')}</VALUE.ARRAY></PROPERTY.ARRAY>`
    : `<PROPERTY NAME="${k}" TYPE="${type}"><VALUE>${xmlEscape(value)}</VALUE></PROPERTY>`).join('');
  return `<INSTANCE CLASSNAME="${cls}">${body}</INSTANCE>`;
}

/** The value of key `key` in a WMI object path (\\HOST\root\virtualization\v2:Class.Key="v",…), unescaped. */
export function pathKey(objectPath: string | null, key: string): string | null {
  if (!objectPath) return null;
  const m = new RegExp(`[.,]${key}="((?:[^"\\\\]|\\\\.)*)"`).exec(objectPath);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : null;
}

/** The host named by a WMI object path (\\HOST\…). */
export const pathHost = (objectPath: string | null): string | null => (objectPath ? (/^\\\\([^\\]+)\\/.exec(objectPath)?.[1] ?? null) : null);
