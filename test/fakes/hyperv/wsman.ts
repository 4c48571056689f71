/**
 * The WS-Management wire of the fake, as WinRM speaks it: SOAP 1.2 envelopes
 * with WS-Addressing headers; WS-Transfer Get, WS-Enumeration
 * Enumerate/Pull/Release (with WQL filters and OptimizeEnumeration), and
 * method invocation (Action = the class's resource URI + "/" + method).
 * Namespaces and fault shapes as in DMTF DSP0226 and Microsoft's MS-WSMV.
 */
import { childEl, childEls, childText, localName, parseForeignXml, type XmlElement } from '../../../src/interchange/safe-xml.js';
import type { Instance, Value } from './instances.js';
import { RESOURCE_BASE } from './schema.js';

export const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  a: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  n: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration',
  x: 'http://schemas.xmlsoap.org/ws/2004/09/transfer',
  w: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  f: 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault',
};
export const ACTION = {
  get: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Get',
  enumerate: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate',
  pull: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull',
  release: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release',
};
export const WQL = 'http://schemas.microsoft.com/wbem/wsman/1/WQL';

export interface WsRequest {
  action: string;
  resourceUri: string;
  messageId: string;
  selectors: Record<string, string>;
  body: XmlElement | undefined;
}

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function parseRequest(text: string): WsRequest {
  const env = parseForeignXml(text, 'the WS-Management request');
  const header = childEl(env, 'Header');
  const body = childEl(env, 'Body');
  const selectors: Record<string, string> = {};
  for (const s of childEls(childEl(header, 'SelectorSet'), 'Selector')) selectors[s.attrs['Name'] ?? ''] = s.text.trim();
  return {
    action: childText(header, 'Action') ?? '',
    resourceUri: childText(header, 'ResourceURI') ?? '',
    messageId: childText(header, 'MessageID') ?? '',
    selectors,
    body: body?.children[0],
  };
}

/** An endpoint reference parameter of an invoked method: its selectors. */
export function eprSelectors(e: XmlElement | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const rp = childEl(e, 'ReferenceParameters');
  for (const s of childEls(childEl(rp, 'SelectorSet'), 'Selector')) out[s.attrs['Name'] ?? ''] = s.text.trim();
  return out;
}

export function inputs(body: XmlElement | undefined): Map<string, XmlElement[]> {
  const m = new Map<string, XmlElement[]>();
  for (const c of body?.children ?? []) {
    const k = localName(c.name);
    m.set(k, [...(m.get(k) ?? []), c]);
  }
  return m;
}

export function envelope(action: string, relatesTo: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${NS.s}" xmlns:a="${NS.a}" xmlns:n="${NS.n}" xmlns:w="${NS.w}" xmlns:x="${NS.x}" xmlns:xsi="${NS.xsi}">`
    + `<s:Header><a:Action>${esc(action)}</a:Action><a:MessageID>uuid:${crypto.randomUUID().toUpperCase()}</a:MessageID>`
    + `<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>${esc(relatesTo)}</a:RelatesTo></s:Header>`
    + `<s:Body>${body}</s:Body></s:Envelope>`;
}

export function epr(cls: string, selectors: Record<string, string>, tag: string): string {
  const sel = Object.entries(selectors).map(([k, v]) => `<w:Selector Name="${esc(k)}">${esc(v)}</w:Selector>`).join('');
  return `<${tag}><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address><a:ReferenceParameters>`
    + `<w:ResourceURI>${RESOURCE_BASE}/${cls}</w:ResourceURI><w:SelectorSet>${sel}</w:SelectorSet></a:ReferenceParameters></${tag}>`;
}

function prop(name: string, v: Value): string {
  if (v === null) return `<p:${name} xsi:nil="true"/>`;
  if (Array.isArray(v)) return v.map((x) => `<p:${name}>${esc(x)}</p:${name}>`).join('');
  return `<p:${name}>${esc(v)}</p:${name}>`;
}

/** An instance as WinRM writes it: the class name as the element, one child per property, nil ones with xsi:nil. */
export function instanceXml(i: Instance): string {
  return `<p:${i.cls} xmlns:p="${RESOURCE_BASE}/${i.cls}" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xsi:type="p:${i.cls}_Type">`
    + Object.entries(i.props).map(([k, v]) => prop(k, v)).join('') + `</p:${i.cls}>`;
}

/** A SOAP fault as WinRM sends it (HTTP 500), with the WMI error in the WSManFault detail. */
export function fault(relatesTo: string, subcode: string, reason: string, wmiCode = 2150858778): string {
  return envelope('http://schemas.dmtf.org/wbem/wsman/1/wsman/fault', relatesTo,
    `<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:${subcode}</s:Value></s:Subcode></s:Code>`
    + `<s:Reason><s:Text xml:lang="en-US">${esc(reason)}</s:Text></s:Reason>`
    + `<s:Detail><f:WSManFault xmlns:f="${NS.f}" Code="${wmiCode}" Machine="fake-hyperv"><f:Message>${esc(reason)}</f:Message></f:WSManFault></s:Detail></s:Fault>`);
}
