/**
 * A WS-Management client for WMI over WinRM (DMTF DSP0226, Microsoft
 * MS-WSMV): SOAP 1.2 envelopes with WS-Addressing headers, WS-Transfer Get,
 * WS-Enumeration Enumerate (WQL filter, OptimizeEnumeration) then Pull until
 * EndOfSequence, and method invocation with endpoint references as
 * parameters. Answers are read with the project's safe XML reader (no
 * entities, no DTDs); faults become catalogue errors.
 */
import { randomUUID } from 'node:crypto';
import { isPolyvisorError, PolyvisorError } from '../../shared/index.js';
import { childEl, childEls, childText, localName, parseForeignXml, type XmlElement } from '../../interchange/safe-xml.js';
import { readInstance, type CimInstance } from './cim.js';
import type { Transport } from './transport.js';
import { xmlEscape } from './wsman-escape.js';

export const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  a: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  n: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration',
  w: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
};
const ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';
export const WMI_V2 = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2';
const WQL = 'http://schemas.microsoft.com/wbem/wsman/1/WQL';
const ACTION = {
  get: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Get',
  enumerate: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate',
  pull: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull',
};
const BATCH = 100;


/** A reference to one instance: its class and key properties (the selectors). */
export interface Ref {
  cls: string;
  keys: Record<string, string>;
}

export type Arg = string | number | boolean | Ref | string[];

const selectorSet = (keys: Record<string, string>): string =>
  `<w:SelectorSet>${Object.entries(keys).map(([k, v]) => `<w:Selector Name="${xmlEscape(k)}">${xmlEscape(v)}</w:Selector>`).join('')}</w:SelectorSet>`;

function argXml(p: string, name: string, v: Arg): string {
  if (Array.isArray(v)) return v.map((x) => `<${p}:${name}>${xmlEscape(x)}</${p}:${name}>`).join('');
  if (typeof v === 'object') {
    return `<${p}:${name}><a:Address>${ANONYMOUS}</a:Address><a:ReferenceParameters><w:ResourceURI>${WMI_V2}/${v.cls}</w:ResourceURI>${selectorSet(v.keys)}</a:ReferenceParameters></${p}:${name}>`;
  }
  return `<${p}:${name}>${xmlEscape(String(v))}</${p}:${name}>`;
}

/** The selectors of an endpoint reference in an answer (a method's Job output). */
export function refOf(e: XmlElement | undefined): Ref | null {
  const rp = childEl(e, 'ReferenceParameters');
  const uri = childText(rp, 'ResourceURI');
  if (!rp || !uri) return null;
  const keys: Record<string, string> = {};
  for (const s of childEls(childEl(rp, 'SelectorSet'), 'Selector')) keys[s.attrs['Name'] ?? ''] = s.text.trim();
  return { cls: uri.slice(uri.lastIndexOf('/') + 1), keys };
}

export interface InvokeResult {
  returnValue: number;
  job: Ref | null;
  out: XmlElement;
}

export class WsmanClient {
  constructor(readonly t: Transport) {}

  get label(): string {
    return this.t.o.label;
  }

  private envelope(action: string, resourceUri: string, body: string, keys?: Record<string, string>): string {
    return `<s:Envelope xmlns:s="${NS.s}" xmlns:a="${NS.a}" xmlns:n="${NS.n}" xmlns:w="${NS.w}"><s:Header>`
      + `<a:To>${xmlEscape(this.t.o.url.href)}</a:To><w:ResourceURI s:mustUnderstand="true">${xmlEscape(resourceUri)}</w:ResourceURI>`
      + `<a:ReplyTo><a:Address s:mustUnderstand="true">${ANONYMOUS}</a:Address></a:ReplyTo><a:Action s:mustUnderstand="true">${xmlEscape(action)}</a:Action>`
      + `<w:MaxEnvelopeSize s:mustUnderstand="true">512000</w:MaxEnvelopeSize><a:MessageID>uuid:${randomUUID().toUpperCase()}</a:MessageID>`
      + `<w:Locale xml:lang="en-US" s:mustUnderstand="false"/><w:OperationTimeout>PT60S</w:OperationTimeout>${keys ? selectorSet(keys) : ''}`
      + `</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
  }

  /** The answer's Body, or the fault as a catalogue error. */
  private async send(action: string, resourceUri: string, body: string, what: string, signal: AbortSignal, keys?: Record<string, string>, accepted = false): Promise<XmlElement> {
    const res = await this.t.post(this.envelope(action, resourceUri, body, keys), what, signal, accepted);
    if (res.status === 401) throw new PolyvisorError('ENDPOINT_AUTH_FAILED', `${this.label} refused the user name or password (HTTP 401)`, { hint: 'Check --user (DOMAIN\\user or user@domain) and the password file; the WinRM listener must allow Basic authentication over HTTPS (winrm set winrm/config/service/auth @{Basic="true"}).' });
    let env: XmlElement;
    try {
      env = parseForeignXml(res.body, `the answer of ${this.label} to ${what}`);
    } catch (err) {
      throw new PolyvisorError('ENDPOINT_PROTOCOL', `${this.label} answered ${what} with HTTP ${res.status} and no SOAP envelope${isPolyvisorError(err) ? ` (${err.message})` : ''}`);
    }
    const b = childEl(env, 'Body');
    const f = childEl(b, 'Fault');
    if (f) throw faultError(this.label, what, f);
    if (res.status !== 200 || !b) throw new PolyvisorError('ENDPOINT_PROTOCOL', `${this.label} answered ${what} with HTTP ${res.status}`);
    return b;
  }

  async get(ref: Ref, signal: AbortSignal): Promise<CimInstance> {
    const b = await this.send(ACTION.get, `${WMI_V2}/${ref.cls}`, '', `Get ${ref.cls}`, signal, ref.keys, true);
    const el = b.children[0];
    if (!el) throw new PolyvisorError('ENDPOINT_PROTOCOL', `${this.label} answered Get ${ref.cls} with an empty body`);
    return readInstance(el);
  }

  /** Every instance a WQL query selects (Enumerate, then Pull until EndOfSequence). */
  async query(wql: string, signal: AbortSignal): Promise<CimInstance[]> {
    const what = `the query "${wql}"`;
    const b = await this.send(ACTION.enumerate, `${WMI_V2}/*`, `<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>${BATCH}</w:MaxElements><w:Filter Dialect="${WQL}">${xmlEscape(wql)}</w:Filter></n:Enumerate>`, what, signal);
    const resp = childEl(b, 'EnumerateResponse');
    const out: CimInstance[] = [];
    const take = (items: XmlElement | undefined): void => {
      for (const c of items?.children ?? []) out.push(readInstance(c));
    };
    take(childEl(resp, 'Items'));
    let ctx = childText(resp, 'EnumerationContext');
    let end = !!childEl(resp, 'EndOfSequence');
    for (let i = 0; !end && ctx; i++) {
      if (i > 10_000) throw new PolyvisorError('ENDPOINT_PROTOCOL', `${this.label} never ended ${what}`);
      const pb = await this.send(ACTION.pull, `${WMI_V2}/*`, `<n:Pull><n:EnumerationContext>${xmlEscape(ctx)}</n:EnumerationContext><n:MaxElements>${BATCH}</n:MaxElements></n:Pull>`, `pull of ${what}`, signal);
      const pr = childEl(pb, 'PullResponse');
      take(childEl(pr, 'Items'));
      end = !!childEl(pr, 'EndOfSequence');
      ctx = childText(pr, 'EnumerationContext') ?? ctx;
    }
    return out;
  }

  /** Invokes `method` on the instance `target`; ReturnValue and the Job reference, if any. */
  async invoke(target: Ref, method: string, args: Record<string, Arg | undefined>, signal: AbortSignal): Promise<InvokeResult> {
    const uri = `${WMI_V2}/${target.cls}`;
    const params = Object.entries(args).filter(([, v]) => v !== undefined).map(([k, v]) => argXml('p', k, v!)).join('');
    const b = await this.send(`${uri}/${method}`, uri, `<p:${method}_INPUT xmlns:p="${uri}">${params}</p:${method}_INPUT>`, `${target.cls}.${method}`, signal, target.keys);
    const out = b.children.find((c) => localName(c.name) === `${method}_OUTPUT`);
    const rv = Number(childText(out, 'ReturnValue'));
    if (!out || !Number.isInteger(rv)) throw new PolyvisorError('ENDPOINT_PROTOCOL', `${this.label} answered ${target.cls}.${method} without a ReturnValue`);
    return { returnValue: rv, job: refOf(childEl(out, 'Job')), out };
  }
}

function faultError(label: string, what: string, f: XmlElement): PolyvisorError {
  const sub = childText(childEl(childEl(f, 'Code'), 'Subcode'), 'Value') ?? '';
  const reason = childText(childEl(f, 'Reason'), 'Text') ?? 'no reason given';
  const code = localName(sub);
  if (code === 'AccessDenied') return new PolyvisorError('ENDPOINT_AUTH_FAILED', `${label} denied ${what}: ${reason}`, { hint: 'The user must be a member of "Hyper-V Administrators" (or Administrators) on the host, with remote WMI access to root\\virtualization\\v2.' });
  return new PolyvisorError('ENDPOINT_PROTOCOL', `${label} refused ${what} (${code || 'fault'}): ${reason}`, { details: { fault: code } });
}
