/**
 * A vim25 SOAP client of our own: one POST per call to <url>/sdk (the
 * endpoint's path), the session cookie vCenter sets at Login sent back on every
 * call, faults mapped to the catalogue (faults.ts). Login and Logout through
 * the SessionManager; the ServiceContent read once at connect.
 *
 * vCenter ends idle sessions (30 min by default): a call answered
 * NotAuthenticated did not run, so the client logs in again (once, shared by
 * concurrent calls) and repeats it. Objects of the old session (container
 * views, property collectors) are gone then: `generation` counts logins so
 * their owners can tell.
 */
import { PolyvisorError } from '../../shared/index.js';
import { faultError } from './faults.js';
import { envelope, moRef, parseResponse, ref, text, type MoRef, type Node, type SoapObject } from './soap-envelope.js';
import { Transport, type TransportOptions } from './transport.js';
import type { XmlReadOptions } from './xml-read.js';

export interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager: MoRef;
  sessionManager: MoRef;
  perfManager: MoRef | null;
  fullName: string;
  version: string;
  apiVersion: string;
  apiType: string;
}

export class SoapClient {
  readonly transport: Transport;
  private cookie: string | null = null;
  private creds: { user: string; password: string } | null = null;
  private relogging: Promise<void> | null = null;
  /** Incremented by every login after the first. */
  generation = 0;
  private soapAction = 'urn:vim25/6.5';
  content!: ServiceContent;

  constructor(
    private readonly sdkPath: string,
    opts: TransportOptions,
  ) {
    this.transport = new Transport(opts);
  }

  /** The session cookie header (datastore HTTP access needs it too). */
  get cookieHeader(): Record<string, string> {
    return this.cookie ? { Cookie: this.cookie } : {};
  }

  /** Calls `method` on `self`; resolves with the response element's children (`returnval`…). */
  async call(method: string, self: MoRef, params: SoapObject, signal: AbortSignal, vm?: string, read?: XmlReadOptions): Promise<Node> {
    const gen = this.generation;
    try {
      return await this.once(method, self, params, signal, vm, read);
    } catch (err) {
      const expired = err instanceof PolyvisorError && (err.details as { fault?: string } | undefined)?.fault === 'NotAuthenticated';
      if (!expired || !this.creds || method === 'Login' || method === 'Logout') throw err;
      if (gen === this.generation) await this.relogin(signal);
      return this.once(method, self, params, signal, vm, read);
    }
  }

  private relogin(signal: AbortSignal): Promise<void> {
    this.relogging ??= (async () => {
      this.cookie = null;
      try {
        await this.once('Login', this.content.sessionManager, { userName: this.creds!.user, password: this.creds!.password }, signal);
        this.generation++;
      } finally {
        this.relogging = null;
      }
    })();
    return this.relogging;
  }

  private async once(method: string, self: MoRef, params: SoapObject, signal: AbortSignal, vm?: string, read?: XmlReadOptions): Promise<Node> {
    const res = await this.transport.request({
      method: 'POST',
      path: this.sdkPath,
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: this.soapAction, ...this.cookieHeader },
      body: envelope(method, self, params),
      signal,
      what: method,
    });
    const setCookie = res.headers['set-cookie'];
    if (setCookie?.length) {
      const c = setCookie.map((x) => x.split(';')[0] ?? '').find((x) => x.startsWith('vmware_soap_session='));
      if (c) this.cookie = c;
    }
    const xml = await this.transport.readAll(res, method, signal);
    const ct = String(res.headers['content-type'] ?? '');
    if (!ct.includes('xml') || !xml.includes('Envelope')) {
      throw new PolyvisorError('ENDPOINT_PROTOCOL', `${this.transport.opts.label}: ${method} answered HTTP ${res.statusCode} without a SOAP envelope (is ${this.sdkPath} a vSphere SDK URL?)`);
    }
    let parsed;
    try {
      parsed = parseResponse(xml, read);
    } catch (err) {
      throw new PolyvisorError('ENDPOINT_PROTOCOL', `${this.transport.opts.label}: ${method} answered XML the driver cannot read`, { cause: err });
    }
    if (!parsed.ok) throw faultError(parsed.fault, method, vm);
    return parsed.body;
  }

  async retrieveServiceContent(signal: AbortSignal): Promise<ServiceContent> {
    const b = await this.call('RetrieveServiceContent', moRef('ServiceInstance', 'ServiceInstance'), {}, signal);
    const r = b.returnval as Node | undefined;
    const about = (r?.about ?? {}) as Node;
    const must = (k: string): MoRef => {
      const x = ref(r?.[k]);
      if (!x) throw new PolyvisorError('ENDPOINT_PROTOCOL', `${this.transport.opts.label}: the service content has no ${k} (not a vSphere endpoint?)`);
      return x;
    };
    this.content = {
      rootFolder: must('rootFolder'),
      propertyCollector: must('propertyCollector'),
      viewManager: must('viewManager'),
      sessionManager: must('sessionManager'),
      perfManager: ref(r?.perfManager),
      fullName: text(about.fullName) ?? 'VMware vSphere',
      version: text(about.version) ?? '',
      apiVersion: text(about.apiVersion) ?? '6.5',
      apiType: text(about.apiType) ?? '',
    };
    this.soapAction = `urn:vim25/${this.content.apiVersion}`;
    return this.content;
  }

  async login(user: string, password: string, signal: AbortSignal): Promise<void> {
    await this.call('Login', this.content.sessionManager, { userName: user, password }, signal);
    this.creds = { user, password };
  }

  /** Ends the vSphere session (best effort) and closes the sockets. */
  async logout(signal: AbortSignal): Promise<void> {
    try {
      if (this.cookie) await this.call('Logout', this.content.sessionManager, {}, signal);
    } catch {
      // The session ends with its sockets anyway; a failed logout changes nothing for the caller.
    } finally {
      this.cookie = null;
      this.creds = null;
      this.transport.close();
    }
  }
}
