import { readFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { skipUnmappedDevices } from './devices.js';
import { parseXml } from './xml-read.js';

const GOLDEN = path.resolve(import.meta.dirname, '../../../test/golden/vsphere');
/** fast-xml-parser with the options whose shape xml-read.ts promises. */
const reference = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', textNodeName: '#text', parseTagValue: false, trimValues: false, processEntities: true, htmlEntities: false });

describe('xml-read: the shape of fast-xml-parser, faster', () => {
  it('reads a vcsim RetrievePropertiesEx answer (a VM with its devices) exactly as fast-xml-parser does', () => {
    const xml = readFileSync(path.join(GOLDEN, 'retrieve-vm.xml'), 'utf8');
    const want = reference.parse(xml) as Record<string, unknown>;
    delete want['?xml']; // the declaration, which xml-read drops
    expect(parseXml(xml)).toEqual(want);
  });

  it('text, attributes, repeats, empty and self-closing elements, entities, comments and CDATA', () => {
    const xml = '<?xml version="1.0"?><r><a>1</a><a>2</a><b t="x &amp; y">v &lt;3 &#65;&#x42;</b><c/><d></d><e k=\'q\'/><!-- note --><f><![CDATA[<raw> & ]]></f><g attr="a>b">t</g></r>';
    const got = parseXml(xml);
    expect(got).toEqual({ r: { a: ['1', '2'], b: { '@t': 'x & y', '#text': 'v <3 AB' }, c: '', d: '', e: { '@k': 'q' }, f: '<raw> & ', g: { '@attr': 'a>b', '#text': 't' } } });
  });

  it('refuses broken XML instead of guessing', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(/mismatched/);
    expect(() => parseXml('<a>')).toThrow(/unclosed/);
    expect(() => parseXml('<a attr="x')).toThrow(/unterminated/);
  });

  it('skips the devices a listing does not map, keeping disks and NICs', () => {
    const xml = readFileSync(path.join(GOLDEN, 'retrieve-vm.xml'), 'utf8');
    const types = (s: string): string[] => [...s.matchAll(/:type":"(Virtual\w+|ParaVirtual\w+)"/g)].map((m) => m[1]!).filter((t) => !t.includes('BackingInfo'));
    const all = JSON.stringify(parseXml(xml));
    const some = JSON.stringify(parseXml(xml, { skip: skipUnmappedDevices }));
    expect(types(all).length - types(some).length, 'devices left out').toBeGreaterThanOrEqual(8);
    expect(types(some)).toEqual(expect.arrayContaining(['VirtualDisk', 'VirtualE1000']));
    expect(some).toContain('"VirtualDisk"');
    expect(some).toContain('"VirtualE1000"');
    expect(some).not.toContain('VirtualKeyboard');
  });
});
