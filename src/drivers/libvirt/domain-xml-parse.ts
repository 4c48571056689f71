/**
 * Domain XML text → a small uniform tree (element name, attributes, element
 * children in document order, text), read with fast-xml-parser. Comments,
 * processing instructions and the declaration are dropped; character
 * references are decoded. Pure.
 */
import { XMLParser } from 'fast-xml-parser';
import { fail } from '../../shared/index.js';

export interface XNode {
  name: string;
  attrs: Record<string, string>;
  children: XNode[];
  /** The element's text content (all its text nodes joined, untrimmed). */
  text: string;
}

const parser = new XMLParser({
  preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false,
  trimValues: false, htmlEntities: true, ignoreDeclaration: true, ignorePiTags: true,
});

type Raw = Record<string, unknown>;

function convert(items: Raw[]): { nodes: XNode[]; text: string } {
  const nodes: XNode[] = [];
  let text = '';
  for (const item of items) {
    if ('#text' in item) {
      text += String(item['#text']);
      continue;
    }
    const name = Object.keys(item).find((k) => k !== ':@');
    if (name === undefined) continue;
    const inner = convert((item[name] as Raw[] | undefined) ?? []);
    const attrs = Object.fromEntries(Object.entries((item[':@'] as Record<string, unknown> | undefined) ?? {}).map(([k, v]) => [k, String(v)]));
    nodes.push({ name, attrs, children: inner.nodes, text: inner.text });
  }
  return { nodes, text };
}

/** The <domain> element of a document, or SPEC_PARSE_FAILED. */
export function parseDomainDocument(xml: string): XNode {
  let items: Raw[];
  try {
    items = parser.parse(xml, true) as Raw[];
  } catch (err) {
    fail('SPEC_PARSE_FAILED', `the domain XML does not parse: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const roots = convert(items).nodes;
  const root = roots[0];
  if (roots.length !== 1 || root === undefined || root.name !== 'domain') {
    fail('SPEC_PARSE_FAILED', `not a libvirt domain XML document (its root element is ${root ? `<${root.name}>` : 'missing'})`);
  }
  return root;
}

export const child = (n: XNode | undefined, name: string): XNode | undefined => n?.children.find((c) => c.name === name);
export const kids = (n: XNode | undefined, name: string): XNode[] => n?.children.filter((c) => c.name === name) ?? [];
/** Trimmed text of a child element, or undefined. */
export const childText = (n: XNode | undefined, name: string): string | undefined => child(n, name)?.text.trim();

/** The names of n's children that are not in `known`, each once, in document order. */
export function unknownChildren(n: XNode, known: readonly string[]): string[] {
  return [...new Set(n.children.map((c) => c.name).filter((c) => !known.includes(c)))];
}

/** A whole number in an attribute or text, or undefined. */
export function intOf(s: string | undefined): number | undefined {
  if (s === undefined || !/^\s*\d+\s*$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}
