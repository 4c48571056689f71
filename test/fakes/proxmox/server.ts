/**
 * A fake Proxmox VE API (no Proxmox VE can run here): HTTPS on 127.0.0.1 with
 * a self-signed certificate, /api2/json, tickets with CSRF tokens and API
 * tokens, answers wrapped in {"data": ...}, errors as pve-http-server sends
 * them (the message in the HTTP reason phrase; per-parameter `errors` on a
 * 400). Every request is checked against the published schema's excerpt and
 * every answer against its documented shape (`problems` collects departures).
 *
 * In-process: `await startFakeProxmox(opts)`. As a process:
 * `tsx test/fakes/proxmox/server.ts [--step-ms N]` prints one JSON line
 * {url, pid, ca} and serves until killed.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { makeSelfSignedCert, type CertPair } from './cert.js';
import { MATCHERS, ROUTES } from './routes.js';
import { methodSchema, returnProblems, verifyParams } from './schema.js';
import { Cluster, DEFAULT_NODES, DEFAULT_VMS, PveError, type VmSeed } from './state.js';
import { Tasks, type TaskFailure } from './tasks.js';

export const FAKE_USER = 'root@pam';
export const FAKE_PASSWORD = 'fake-root-password';
export const FAKE_TOKEN = 'root@pam!polyvisor=8f1c2b4e-0d6a-4c53-9a61-3f0b7f6c2d10';

export interface FakeProxmoxOptions {
  nodes?: string[];
  vms?: VmSeed[];
  /** user@realm → password. */
  users?: Record<string, string>;
  /** "user@realm!tokenid" → secret. */
  tokens?: Record<string, string>;
  /** Length of one step of a worker task (default 100 ms). */
  stepMs?: number;
  /** pveproxy answers a failed login after 3 s; the fake after this (default 0). */
  authFailureDelayMs?: number;
  ticketLifetimeMs?: number;
  cert?: CertPair;
  /** Parameters an older Proxmox VE lacks, by method key (e.g. stop's overrule-shutdown, new in 8.2). */
  withoutParams?: Record<string, string[]>;
}

export interface RequestRecord {
  method: string;
  path: string;
  auth: 'ticket' | 'token' | 'none';
  csrf: boolean;
  status: number;
}

export interface Faults {
  /** Each answer waits this long first. */
  delayMs: number;
  /** The next `count` requests whose "METHOD /path" matches are cut off (socket destroyed, no answer). */
  drop: { match: RegExp; count: number }[];
  /** Planned task failures (the next task of the type dies with the message). */
  failTask(f: TaskFailure): void;
  /** Called before a request is handled (after authentication): a test changes the cluster at a precise moment. */
  beforeAnswer?: (method: string, path: string) => void;
}

export interface FakeProxmox {
  url: string;
  /** The certificate (PEM) to trust: the fake's own, self-signed. */
  ca: string;
  cluster: Cluster;
  tasks: Tasks;
  faults: Faults;
  requests: RequestRecord[];
  /** Answers that departed from the documented shape (a fake bug; tests expect none). */
  problems: string[];
  stop(): Promise<void>;
}

const sign = (secret: Buffer, text: string): string => createHmac('sha256', secret).update(text).digest('base64');
const same = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
const hexNow = (): string => Math.floor(Date.now() / 1000).toString(16).toUpperCase().padStart(8, '0');

function send(res: ServerResponse, status: number, message: string, body: unknown): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, message.split('\n')[0]!.replace(/[^\x20-\x7e]/g, '?'), { 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': Buffer.byteLength(text), Server: 'pve-api-daemon/3.0' });
  res.end(text);
}

async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 64 * 1024) throw new PveError(413, 'request too large');
    chunks.push(c);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  const params: Record<string, string> = {};
  const type = req.headers['content-type'] ?? '';
  if (raw && type.startsWith('application/json')) {
    for (const [k, v] of Object.entries(JSON.parse(raw) as Record<string, unknown>)) params[k] = typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  } else if (raw) {
    for (const [k, v] of new URLSearchParams(raw)) params[k] = v;
  }
  for (const [k, v] of url.searchParams) params[k] = v;
  return params;
}

export async function startFakeProxmox(opts: FakeProxmoxOptions = {}): Promise<FakeProxmox> {
  const cert = opts.cert ?? (await makeSelfSignedCert());
  const users = opts.users ?? { [FAKE_USER]: FAKE_PASSWORD };
  const tokens = opts.tokens ?? { [FAKE_TOKEN.split('=')[0]!]: FAKE_TOKEN.split('=')[1]! };
  const lifetimeMs = opts.ticketLifetimeMs ?? 2 * 3600_000;
  const secret = randomBytes(32);
  const cluster = new Cluster(opts.nodes ?? DEFAULT_NODES, opts.vms ?? DEFAULT_VMS);
  const tasks = new Tasks(opts.stepMs ?? 100);
  const requests: RequestRecord[] = [];
  const problems: string[] = [];
  const faults: Faults = { delayMs: 0, drop: [], failTask: (f) => tasks.failures.push(f) };

  const ticketFor = (user: string): string => {
    const plain = `PVE:${user}:${hexNow()}`;
    return `${plain}::${sign(secret, plain)}`;
  };
  const csrfFor = (user: string): string => {
    const t = hexNow();
    return `${t}:${sign(secret, `${t}:${user}`)}`;
  };
  /** The ticket's user, or null when it is forged or expired. */
  const ticketUser = (ticket: string): string | null => {
    const m = /^(PVE:([^:]+):([0-9A-F]{8}))::(.+)$/.exec(ticket);
    if (!m || !same(sign(secret, m[1]!), m[4]!)) return null;
    return Date.now() - parseInt(m[3]!, 16) * 1000 < lifetimeMs ? m[2]! : null;
  };
  const csrfValid = (user: string, token: string | undefined): boolean => {
    const m = token ? /^([0-9A-F]{8}):(\S+)$/.exec(token) : null;
    return !!m && same(sign(secret, `${m[1]}:${user}`), m[2]!);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://fake');
    const method = req.method ?? 'GET';
    const rec: RequestRecord = { method, path: url.pathname, auth: 'none', csrf: typeof req.headers['csrfpreventiontoken'] === 'string', status: 0 };
    requests.push(rec);
    const answer = (status: number, message: string, body: unknown): void => {
      rec.status = status;
      send(res, status, message, body);
    };
    const refuse = async (message: string): Promise<void> => {
      if (opts.authFailureDelayMs) await new Promise((r) => setTimeout(r, opts.authFailureDelayMs));
      answer(401, message, { data: null });
    };
    try {
      const drop = faults.drop.find((d) => d.count > 0 && d.match.test(`${method} ${url.pathname}`));
      if (drop) {
        drop.count--;
        req.socket.destroy();
        return;
      }
      if (faults.delayMs) await new Promise((r) => setTimeout(r, faults.delayMs));
      if (!url.pathname.startsWith('/api2/json/')) return answer(501, 'no such uri', { data: null });
      const rel = url.pathname.slice('/api2/json'.length).replace(/\/+$/, '');
      const params = await readParams(req, url);

      if (rel === '/access/ticket' && method === 'POST') {
        const errors = verifyParams(methodSchema('POST /access/ticket'), params);
        if (errors) return answer(400, 'Parameter verification failed.', { data: null, errors });
        const name = params['username']!.includes('@') ? params['username']! : `${params['username']}@${params['realm'] ?? 'pam'}`;
        const pw = params['password']!;
        const ok = pw.startsWith('PVE:') ? ticketUser(pw) === name : users[name] !== undefined && same(users[name]!, pw);
        if (!ok) return refuse('authentication failure');
        return answer(200, 'OK', { data: { username: name, ticket: ticketFor(name), CSRFPreventionToken: csrfFor(name), clustername: 'fakeclu', cap: {} } });
      }

      const hit = MATCHERS.map((m) => ({ m, g: m.re.exec(rel) })).filter((x) => x.g);
      const route = hit.find((x) => x.m.method === method);
      if (!route) return answer(501, `Method '${method} /api2/json${rel}' not implemented`, { data: null });
      const full = methodSchema(route.m.key);
      const gone = opts.withoutParams?.[route.m.key] ?? [];
      const schema = gone.length ? { ...full, parameters: Object.fromEntries(Object.entries(full.parameters).filter(([k]) => !gone.includes(k))) } : full;

      let user: string;
      const authz = req.headers['authorization'] ?? '';
      if (authz.startsWith('PVEAPIToken=')) {
        rec.auth = 'token';
        const m = /^PVEAPIToken=([^!]+@[^!]+)!([^=]+)=(.+)$/.exec(authz);
        if (!m) return refuse('invalid API token format');
        const known = tokens[`${m[1]}!${m[2]}`];
        if (known === undefined) return refuse(`no such token '${m[2]}' for user '${m[1]}'`);
        if (!same(known, m[3]!)) return refuse('invalid token value!');
        if (!schema.allowtoken) return refuse('API tokens are not allowed for this call');
        user = `${m[1]}!${m[2]}`;
      } else {
        const cookie = /(?:^|;\s*)PVEAuthCookie=([^;]*)/.exec(req.headers['cookie'] ?? '');
        if (!cookie) return refuse('No ticket');
        rec.auth = 'ticket';
        const who = ticketUser(decodeURIComponent(cookie[1]!));
        if (!who) return refuse('permission denied - invalid PVE ticket');
        if (method !== 'GET' && !csrfValid(who, req.headers['csrfpreventiontoken'] as string | undefined)) return refuse('Permission denied - invalid csrf token');
        user = who;
      }

      route.m.names.forEach((n, i) => (params[n] = decodeURIComponent(route.g![i + 1]!)));
      const errors = verifyParams(schema, params);
      if (errors) return answer(400, 'Parameter verification failed.', { data: null, errors });
      faults.beforeAnswer?.(method, url.pathname);
      const data = await ROUTES[route.m.key]!({ params, user, cluster, tasks });
      const bad = returnProblems(schema.returns, data);
      if (bad.length) problems.push(...bad.map((b) => `${route.m.key}: ${b}`));
      answer(200, 'OK', { data: data ?? null });
    } catch (err) {
      if (err instanceof PveError) answer(err.status, err.message, err.errors ? { data: null, errors: err.errors } : { data: null });
      else answer(500, `fake proxmox: ${(err as Error).message}`, { data: null });
    }
  };

  const server = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`, ca: cert.cert, cluster, tasks, faults, requests, problems,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--step-ms');
  const stepMs = i > 0 ? Number(process.argv[i + 1]) : 100;
  const fake = await startFakeProxmox({ stepMs });
  process.stdout.write(`${JSON.stringify({ url: fake.url, pid: process.pid, ca: fake.ca })}\n`);
  process.on('SIGTERM', () => void fake.stop().then(() => process.exit(0)));
}
