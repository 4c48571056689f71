/**
 * vim25 SOAP envelopes: a small serializer from plain objects to the request
 * XML, and the response parsed with fast-xml-parser into plain objects. Pure.
 *
 * Responses are read by xml-read.ts (fast-xml-parser's shape, faster).
 *
 * Request values: strings, numbers and booleans become text; a `MoRef` becomes
 * `<tag type="T">value</tag>`; an object with `$type` gets `xsi:type`; arrays
 * repeat the tag. Keys are written in insertion order (vim25 is an XML Schema
 * sequence: callers write fields in the WSDL's order).
 */
import { parseXml, type XmlReadOptions } from './xml-read.js';

export interface MoRef {
  type: string;
  value: string;
}

export type SoapValue = string | number | boolean | MoRef | SoapObject | SoapValue[] | undefined | null;
export interface SoapObject {
  $type?: string;
  [key: string]: SoapValue;
}

export const moRef = (type: string, value: string): MoRef => ({ type, value });

function isMoRef(v: unknown): v is MoRef {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 2 && 'type' in v && 'value' in v;
}

export function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function element(tag: string, v: SoapValue): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((x) => element(tag, x)).join('');
  if (typeof v !== 'object') return `<${tag}>${xmlEscape(String(v))}</${tag}>`;
  if (isMoRef(v)) return `<${tag} type="${xmlEscape(v.type)}">${xmlEscape(v.value)}</${tag}>`;
  const attr = v.$type ? ` xsi:type="${xmlEscape(v.$type)}"` : '';
  let inner = '';
  for (const [k, x] of Object.entries(v)) if (k !== '$type') inner += element(k, x);
  return `<${tag}${attr}>${inner}</${tag}>`;
}

/** The envelope of one call: `<method><_this type=…>…</_this>…params</method>`. */
export function envelope(method: string, self: MoRef, params: SoapObject = {}): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
    `<soapenv:Body><${method} xmlns="urn:vim25">${element('_this', self)}` +
    Object.entries(params).map(([k, v]) => element(k, v)).join('') +
    `</${method}></soapenv:Body></soapenv:Envelope>`
  );
}

/** A parsed XML node: text, attributes under `@name`, children by tag name (one or an array). */
export type Node = Record<string, unknown>;

export function asArray<T = Node>(v: unknown): T[] {
  if (v === undefined || v === null || v === '') return [];
  return (Array.isArray(v) ? v : [v]) as T[];
}

/** Text of a node that may be a plain string or an element with attributes. */
export function text(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && '#text' in (v as Node)) return String((v as Node)['#text']);
  if (typeof v === 'object') return '';
  return String(v);
}

export function num(v: unknown): number | null {
  const t = text(v);
  if (t === null || t === '') return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

export function ref(v: unknown): MoRef | null {
  if (!v || typeof v !== 'object') return null;
  const n = v as Node;
  const t = n['@type'];
  return typeof t === 'string' ? { type: t, value: text(n) ?? '' } : null;
}

/**
 * The xsi:type of a node, without its namespace prefix. Servers pick their own
 * prefix for the XMLSchema-instance namespace (vCenter `xsi:`, vcsim
 * `XMLSchema-instance:`): any prefixed `type` attribute is it (a MoRef's
 * `type` has none).
 */
export function xsiType(v: unknown): string | null {
  if (!v || typeof v !== 'object') return null;
  for (const [k, t] of Object.entries(v as Node)) {
    if (k.startsWith('@') && k.endsWith(':type') && typeof t === 'string') return t.replace(/^.*:/, '');
  }
  return null;
}

/** Strips a namespace prefix from a tag name. */
const local = (k: string): string => k.replace(/^.*:/, '');

function child(n: Node, name: string): unknown {
  for (const [k, v] of Object.entries(n)) if (local(k) === name) return v;
  return undefined;
}

export interface SoapFault {
  faultstring: string;
  /** The vim25 fault type (InvalidLogin, ManagedObjectNotFound, InvalidPowerState…), when given. */
  type: string | null;
  detail: Node | null;
}

export type ParsedResponse = { ok: true; body: Node } | { ok: false; fault: SoapFault };

/** Parses a response envelope: the `<method>Response` element's content, or the fault. */
export function parseResponse(xml: string, read?: XmlReadOptions): ParsedResponse {
  const doc = parseXml(xml, read);
  const env = child(doc, 'Envelope') as Node | undefined;
  const body = env ? (child(env, 'Body') as Node | undefined) : undefined;
  if (!body || typeof body !== 'object') throw new Error('no SOAP body in the response');
  const fault = child(body, 'Fault') as Node | undefined;
  if (fault) {
    const detail = child(fault, 'detail') as Node | undefined;
    let type: string | null = null;
    let detailNode: Node | null = null;
    if (detail && typeof detail === 'object') {
      for (const [k, v] of Object.entries(detail)) {
        if (k.startsWith('@') || k === '#text') continue;
        detailNode = (typeof v === 'object' ? v : {}) as Node;
        type = xsiType(v) ?? local(k).replace(/Fault$/, '');
        break;
      }
    }
    return { ok: false, fault: { faultstring: text(child(fault, 'faultstring')) ?? '', type, detail: detailNode } };
  }
  for (const [k, v] of Object.entries(body)) {
    if (k.startsWith('@') || k === '#text') continue;
    return { ok: true, body: (typeof v === 'object' && v !== null ? v : {}) as Node };
  }
  return { ok: true, body: {} };
}
