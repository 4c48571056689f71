/**
 * A tiny XML tree and its serializer for domain XML: elements, attributes in
 * the order given, escaped text. Deterministic (two-space indent, one element
 * per line, `'` around attribute values as libvirt writes them). Pure.
 */

export type XmlAttrs = Record<string, string | number | undefined>;

export interface XmlNode {
  name: string;
  attrs: XmlAttrs;
  children: XmlNode[];
  text?: string;
}

type Child = XmlNode | undefined | false;

/** An element; undefined/false children and undefined attributes are left out. */
export function el(name: string, attrs: XmlAttrs = {}, children: Child[] = []): XmlNode {
  return { name, attrs, children: children.filter((c): c is XmlNode => c !== undefined && c !== false) };
}

/** An element holding text only. */
export function textEl(name: string, text: string | number, attrs: XmlAttrs = {}): XmlNode {
  return { name, attrs, children: [], text: String(text) };
}

/** Characters XML 1.0 cannot hold at all (not even as character references). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const XML_ILLEGAL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

const escapeText = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');

const escapeAttr = (s: string): string =>
  escapeText(s).replace(/'/g, '&apos;').replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');

export function renderXml(node: XmlNode, indent = ''): string {
  const attrs = Object.entries(node.attrs)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}='${escapeAttr(String(v))}'`)
    .join('');
  if (node.text !== undefined) return `${indent}<${node.name}${attrs}>${escapeText(node.text)}</${node.name}>\n`;
  if (node.children.length === 0) return `${indent}<${node.name}${attrs}/>\n`;
  const inner = node.children.map((c) => renderXml(c, `${indent}  `)).join('');
  return `${indent}<${node.name}${attrs}>\n${inner}${indent}</${node.name}>\n`;
}
