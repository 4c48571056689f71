/**
 * Foreign XML (Hyper-V configurations, libvirt domains, XVA ova.xml) → a small
 * uniform tree, read with fast-xml-parser set to expand no entity and fetch
 * nothing: a document declaring entities or an external DTD (billion laughs,
 * XXE) is refused with INTERCHANGE_INVALID before the parser sees it. The five
 * predefined entities and character references are decoded here. Pure.
 */
import { XMLParser } from 'fast-xml-parser';
import { fail } from '../shared/index.js';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (its text nodes joined, untrimmed). */
  text: string;
}

const parser = new XMLParser({
  preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false,
  trimValues: false, processEntities: false, htmlEntities: false, ignoreDeclaration: true, ignorePiTags: true,
});

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the predefined entities and character references; any other entity reference is refused. */
export function decodeXmlText(s: string, what: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);/g, (_m, ref: string) => {
    if (ref.startsWith('#x')) return codePoint(parseInt(ref.slice(2), 16), what);
    if (ref.startsWith('#')) return codePoint(parseInt(ref.slice(1), 10), what);
    const v = PREDEFINED[ref];
    if (v === undefined) fail('INTERCHANGE_INVALID', `${what}: the entity &${ref}; is not expanded (only XML's five predefined entities are)`);
    return v;
  });
}

function codePoint(n: number, what: string): string {
  if (!Number.isSafeInteger(n) || n <= 0 || n > 0x10ffff) fail('INTERCHANGE_INVALID', `${what}: the character reference &#${n}; is not a character`);
  return String.fromCodePoint(n);
}

type Raw = Record<string, unknown>;

function convert(items: Raw[], what: string): { nodes: XmlElement[]; text: string } {
  const nodes: XmlElement[] = [];
  let text = '';
  for (const item of items) {
    if ('#text' in item) {
      text += decodeXmlText(String(item['#text']), what);
      continue;
    }
    const name = Object.keys(item).find((k) => k !== ':@');
    if (name === undefined || name === '#comment') continue;
    const inner = convert((item[name] as Raw[] | undefined) ?? [], what);
    const attrs = Object.fromEntries(Object.entries((item[':@'] as Record<string, unknown> | undefined) ?? {})
      .map(([k, v]) => [k, decodeXmlText(String(v), what)]));
    nodes.push({ name, attrs, children: inner.nodes, text: inner.text });
  }
  return { nodes, text };
}

/** The root element of an XML document, or INTERCHANGE_INVALID naming `what` (e.g. "the Hyper-V configuration"). */
export function parseForeignXml(text: string, what: string): XmlElement {
  const body = text.replace(/^\uFEFF/, '');
  if (/<!ENTITY/i.test(body)) fail('INTERCHANGE_INVALID', `${what} declares entities; they are neither expanded nor fetched`);
  const doctype = /<!DOCTYPE[^>[]*/i.exec(body)?.[0];
  if (doctype !== undefined && /\b(SYSTEM|PUBLIC)\b/.test(doctype)) fail('INTERCHANGE_INVALID', `${what} names an external DTD; it is not fetched`);
  let items: Raw[];
  try {
    items = parser.parse(body, true) as Raw[];
  } catch (err) {
    fail('INTERCHANGE_INVALID', `${what} is not well-formed XML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const roots = convert(items, what).nodes;
  if (roots.length !== 1) fail('INTERCHANGE_INVALID', `${what} has ${roots.length} root elements, not one`);
  return roots[0]!;
}

/** The element name without its namespace prefix. */
export const localName = (name: string): string => name.slice(name.indexOf(':') + 1);
export const childEl = (n: XmlElement | undefined, name: string): XmlElement | undefined => n?.children.find((c) => localName(c.name) === name);
export const childEls = (n: XmlElement | undefined, name: string): XmlElement[] => n?.children.filter((c) => localName(c.name) === name) ?? [];
/** Trimmed text of a child element, or undefined when there is none. */
export const childText = (n: XmlElement | undefined, name: string): string | undefined => childEl(n, name)?.text.trim();

/** Every element under n (n included), depth first, in document order. */
export function walk(n: XmlElement, visit: (e: XmlElement, path: string) => void, path = n.name): void {
  visit(n, path);
  for (const c of n.children) walk(c, visit, `${path}/${c.name}`);
}
