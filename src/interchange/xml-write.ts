/**
 * A small XML writer for the descriptors Polyvisor exports (OVF, VirtualBox):
 * elements with attributes in the order given, text escaped, two-space
 * indentation. Pure.
 */

export interface XmlOut {
  name: string;
  attrs: Array<readonly [string, string | number | undefined]>;
  children: XmlOut[];
  text?: string;
}

/** An element; attributes whose value is undefined are left out. Children that are false/undefined are skipped. */
export function xel(name: string, attrs: Array<readonly [string, string | number | undefined]> = [], children: Array<XmlOut | false | undefined> = []): XmlOut {
  return { name, attrs, children: children.filter((c): c is XmlOut => c !== false && c !== undefined) };
}

/** An element holding text only. */
export function xtext(name: string, text: string | number, attrs: Array<readonly [string, string | number | undefined]> = []): XmlOut {
  return { name, attrs, children: [], text: String(text) };
}

/** Characters XML 1.0 cannot hold (C0 controls but tab, LF, CR): dropped. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(CONTROL, '');

function render(e: XmlOut, indent: string, out: string[]): void {
  const attrs = e.attrs.filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`).join('');
  if (e.text !== undefined) {
    out.push(`${indent}<${e.name}${attrs}>${escapeXml(e.text)}</${e.name}>`);
  } else if (e.children.length === 0) {
    out.push(`${indent}<${e.name}${attrs}/>`);
  } else {
    out.push(`${indent}<${e.name}${attrs}>`);
    for (const c of e.children) render(c, `${indent}  `, out);
    out.push(`${indent}</${e.name}>`);
  }
}

/** The document: an XML declaration, then the root element, ending with a newline. */
export function xmlDocument(root: XmlOut, standalone = false): string {
  const out = [`<?xml version="1.0" encoding="UTF-8"${standalone ? ' standalone="yes"' : ''}?>`];
  render(root, '', out);
  return `${out.join('\n')}\n`;
}
