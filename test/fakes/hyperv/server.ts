/**
 * A fake Hyper-V host (no Hyper-V can run here): WinRM's WS-Management
 * listener on HTTPS (/wsman, self-signed certificate, basic authentication)
 * serving the WMI v2 namespace root\virtualization\v2 as excerpted in
 * schema.ts. Several hosts share one World (each on its own port), so VMs
 * migrate between them. Every instance served is checked against the
 * excerpt (`problems`).
 *
 * In-process: `await startFakeHyperv(opts)`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { makeSelfSignedCert, type CertPair } from '../proxmox/cert.js';
import { hostInstances, type Instance } from './instances.js';
import { JobRunner, type JobFailure } from './jobs.js';
import { Methods } from './methods.js';
import { CLASSES, RESOURCE_BASE, RETURN, unknownProperties } from './schema.js';
import { FakeError, World, type VmSeed } from './state.js';
import { ACTION, envelope, epr, fault, inputs, instanceXml, parseRequest, WQL, type WsRequest } from './wsman.js';
import { matches, parseWql } from './wql.js';

export const FAKE_USER = 'HV\\Administrator';
export const FAKE_PASSWORD = 'fake-hyperv-password';

export interface FakeHypervOptions {
  hosts?: string[];
  vms?: VmSeed[];
  /** One step of a job (default 50 ms). */
  stepMs?: number;
  cert?: CertPair;
}

export interface RequestRecord {
  host: string;
  action: string;
  resourceUri: string;
  status: number;
}

export interface FakeHost {
  name: string;
  url: string;
}

export interface FakeHyperv {
  hosts: FakeHost[];
  world: World;
  ca: string;
  requests: RequestRecord[];
  /** Instances served with a property the excerpt lacks, or classes it lacks. */
  problems: string[];
  /** The next job of `method` stops at `atPercent` with Exception. */
  failJob(f: JobFailure): void;
  setStepMs(ms: number): void;
  /** Closes every listener and cuts every open connection: the endpoint goes away. */
  stop(): Promise<void>;
}

interface EnumContext {
  items: Instance[];
  at: number;
}

const BATCH = 20;

export async function startFakeHyperv(o: FakeHypervOptions = {}): Promise<FakeHyperv> {
  const hosts = o.hosts ?? ['HV1', 'HV2'];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pv-fake-hyperv-'));
  const world = new World(hosts, dir);
  for (const v of o.vms ?? []) await world.addVm(v);
  let stepMs = o.stepMs ?? 50;
  const jobs = new JobRunner(world, () => stepMs);
  const methods = new Methods(world, jobs);
  const cert = o.cert ?? (await makeSelfSignedCert('hv.fake.invalid'));
  const requests: RequestRecord[] = [];
  const problems: string[] = [];
  const contexts = new Map<string, EnumContext>();
  const sockets = new Set<Socket>();
  const servers: https.Server[] = [];
  const expected = `Basic ${Buffer.from(`${FAKE_USER}:${FAKE_PASSWORD}`).toString('base64')}`;

  const serve = (host: string, items: Instance[]): Instance[] => {
    for (const i of items) {
      const bad = unknownProperties(i.cls, Object.keys(i.props));
      if (bad.length) problems.push(`${host} ${i.cls}: ${bad.join(', ')}`);
    }
    return items;
  };

  const classOf = (uri: string): string => (uri.startsWith(`${RESOURCE_BASE}/`) ? uri.slice(RESOURCE_BASE.length + 1) : '');

  const answer = async (host: string, r: WsRequest): Promise<{ status: number; body: string }> => {
    const ok = (action: string, body: string): { status: number; body: string } => ({ status: 200, body: envelope(action, r.messageId, body) });
    const bad = (sub: string, reason: string): { status: number; body: string } => ({ status: 500, body: fault(r.messageId, sub, reason) });
    if (r.action === ACTION.get) {
      const cls = classOf(r.resourceUri);
      const keys = CLASSES[cls]?.keys;
      if (!keys) return bad('DestinationUnreachable', `The WS-Management service cannot process the request. The class ${cls || r.resourceUri} does not exist in the ${'root/virtualization/v2'} namespace.`);
      const hit = hostInstances(world, host).find((i) => i.cls === cls && keys.every((k) => String(i.props[k] ?? '').toLowerCase() === (r.selectors[k] ?? '').toLowerCase()));
      if (!hit) return bad('InvalidSelectors', 'The WS-Management service cannot process the request because the request contained invalid selectors for the resource. No instance found with given property values.');
      return ok(`${ACTION.get}Response`, instanceXml(serve(host, [hit])[0]!));
    }
    if (r.action === ACTION.enumerate) {
      const body = r.body;
      const filter = body?.children.find((c) => c.name.endsWith('Filter'));
      let items: Instance[];
      if (filter) {
        if (filter.attrs['Dialect'] !== WQL) return bad('FilterDialectRequestedUnavailable', `The filter dialect ${filter.attrs['Dialect'] ?? ''} is not supported.`);
        const q = parseWql(filter.text);
        if (!q) return bad('CannotProcessFilter', `The WS-Management service cannot process the request because the WQL query is invalid: ${filter.text}`);
        if (!CLASSES[q.cls]) return bad('CannotProcessFilter', `Invalid class ${q.cls}`);
        items = hostInstances(world, host).filter((i) => matches(i, q));
      } else {
        const cls = classOf(r.resourceUri);
        if (!CLASSES[cls]) return bad('DestinationUnreachable', `The class ${cls || r.resourceUri} does not exist.`);
        items = hostInstances(world, host).filter((i) => i.cls === cls);
      }
      serve(host, items);
      const optimize = body?.children.some((c) => c.name.endsWith('OptimizeEnumeration'));
      const max = Number(body?.children.find((c) => c.name.endsWith('MaxElements'))?.text ?? BATCH) || BATCH;
      const id = `uuid:${randomUUID().toUpperCase()}`;
      const first = optimize ? items.slice(0, max) : [];
      const rest = { items, at: first.length };
      const end = rest.at >= items.length;
      if (!end || !optimize) contexts.set(id, rest);
      return ok(`${ACTION.enumerate}Response`, `<n:EnumerateResponse><n:EnumerationContext>${id}</n:EnumerationContext>`
        + (optimize ? `<w:Items>${first.map(instanceXml).join('')}</w:Items>${end ? '<w:EndOfSequence/>' : ''}` : '') + '</n:EnumerateResponse>');
    }
    if (r.action === ACTION.pull) {
      const ctxId = r.body?.children.find((c) => c.name.endsWith('EnumerationContext'))?.text.trim() ?? '';
      const max = Number(r.body?.children.find((c) => c.name.endsWith('MaxElements'))?.text ?? BATCH) || BATCH;
      const c = contexts.get(ctxId);
      if (!c) return bad('InvalidEnumerationContext', 'The enumeration context supplied in the message is not valid.');
      const batch = c.items.slice(c.at, c.at + max);
      c.at += batch.length;
      const end = c.at >= c.items.length;
      if (end) contexts.delete(ctxId);
      return ok(`${ACTION.pull}Response`, `<n:PullResponse>${end ? '' : `<n:EnumerationContext>${ctxId}</n:EnumerationContext>`}<n:Items>${batch.map(instanceXml).join('')}</n:Items>${end ? '<n:EndOfSequence/>' : ''}</n:PullResponse>`);
    }
    if (r.action === ACTION.release) {
      contexts.delete(r.body?.children.find((c) => c.name.endsWith('EnumerationContext'))?.text.trim() ?? '');
      return ok(`${ACTION.release}Response`, '');
    }
    // Invoke: Action = ResourceURI/Method.
    const cls = classOf(r.resourceUri);
    const method = r.action.startsWith(`${r.resourceUri}/`) ? r.action.slice(r.resourceUri.length + 1) : '';
    if (!CLASSES[cls]?.methods?.[method]) return bad('ActionNotSupported', `The action ${r.action} is not supported by the service.`);
    const keys = CLASSES[cls]!.keys;
    const target = hostInstances(world, host).find((i) => i.cls === cls && keys.every((k) => String(i.props[k] ?? '').toLowerCase() === (r.selectors[k] ?? '').toLowerCase()));
    if (!target) return bad('InvalidSelectors', 'The WS-Management service cannot process the request because the request contained invalid selectors for the resource.');
    const args = inputs(r.body);
    const allowed = CLASSES[cls]!.methods![method]!.in;
    const unknown = [...args.keys()].filter((k) => !allowed.includes(k));
    if (unknown.length) return bad('InvalidParameter', `The method ${method} has no parameter ${unknown.join(', ')}.`);
    let res: { returnValue: number; job?: { id: string }; extra?: string };
    try {
      res = await methods.call({ host, cls, method, selectors: r.selectors, args });
    } catch (err) {
      if (!(err instanceof FakeError)) throw err;
      // Hyper-V answers most refusals with a failed job; the fake answers them at once with the code (as for invalid parameters).
      const job = world.newJob(host, 0, method);
      job.state = 10;
      job.errorCode = err.returnValue;
      job.errorDescription = err.message;
      res = { returnValue: RETURN.JobStarted, job };
    }
    const out = `<p:${method}_OUTPUT xmlns:p="${RESOURCE_BASE}/${cls}">${res.job ? epr('Msvm_ConcreteJob', { InstanceID: res.job.id }, 'p:Job') : ''}${res.extra ?? ''}<p:ReturnValue>${res.returnValue}</p:ReturnValue></p:${method}_OUTPUT>`;
    return ok(`${r.resourceUri}/${method}Response`, out);
  };

  const handler = (host: string) => (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const record: RequestRecord = { host, action: '', resourceUri: '', status: 0 };
        requests.push(record);
        const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
          record.status = status;
          res.writeHead(status, { 'Content-Type': 'application/soap+xml;charset=UTF-8', ...headers });
          res.end(body);
        };
        if (req.method !== 'POST' || req.url !== '/wsman') return send(404, '');
        if (req.headers.authorization !== expected) return send(401, '', { 'WWW-Authenticate': 'Basic realm="WSMAN"' });
        if (!/^application\/soap\+xml/i.test(req.headers['content-type'] ?? '')) return send(415, '');
        let r: WsRequest;
        try {
          r = parseRequest(Buffer.concat(chunks).toString('utf8'));
        } catch (err) {
          return send(400, fault('', 'InvalidMessageInformationHeader', (err as Error).message));
        }
        record.action = r.action;
        record.resourceUri = r.resourceUri;
        try {
          const a = await answer(host, r);
          send(a.status, a.body);
        } catch (err) {
          send(500, fault(r.messageId, 'InternalError', (err as Error).message));
        }
      })();
    });
  };

  const hostsOut: FakeHost[] = [];
  for (const h of hosts) {
    const server = https.createServer({ cert: cert.cert, key: cert.key }, handler(h));
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    server.on('secureConnection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    hostsOut.push({ name: h, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/wsman` });
  }
  let stopped = false;
  return {
    hosts: hostsOut, world, ca: cert.cert, requests, problems,
    failJob: (f) => jobs.failNext(f),
    setStepMs: (ms) => void (stepMs = ms),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
