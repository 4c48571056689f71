/**
 * A fake XCP-ng pool (no Xen host can run here): XAPI's JSON-RPC (v1 and
 * v2 framing, wire-protocol.md) over HTTPS on 127.0.0.1 at /jsonrpc, built
 * from the datamodel excerpt (datamodel-excerpt.json): sessions by
 * session.login_with_password that expire (SESSION_INVALID), the generated
 * getters of every class, VM messages (vm-methods.ts) and their Async.*
 * variants answering task refs (tasks.ts), event.from, and the HTTP handler
 * GET /export_raw_vdi?session_id=&vdi=&format=raw|vhd streaming a real disk
 * file (vhd made by `qemu-img convert -O vpc`).
 *
 * In-process: `await startFakeXapi(opts)`. As a process:
 * `tsx test/fakes/xapi/server.ts [--step-ms N]` prints one JSON line
 * {url, pid, ca} and serves until killed.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runChecked } from '../../../src/shared/index.js';
import { makeSelfSignedCert } from '../proxmox/cert.js';
import { checkParam, className, isAsync, recordProblems, signature } from './datamodel.js';
import { XapiFault, type TaskFailure } from './faults.js';
import { buildPool, DEFAULT_VMS, NULL_REF, PoolDb, type Rec, type VmSeed } from './state.js';
import { Tasks } from './tasks.js';
import { hostOfCall, markBusy, VM_HANDLERS } from './vm-methods.js';

export const FAKE_USER = 'root';
export const FAKE_PASSWORD = 'fake-xcp-root-password';

export interface FakeXapiOptions {
  vms?: VmSeed[];
  stepMs?: number;
  sessionLifetimeMs?: number;
}

export interface CallRecord {
  method: string;
  error?: string;
}

export interface Faults {
  delayMs: number;
  /** The next `count` calls whose method matches are cut off (socket destroyed, no answer). */
  drop: { match: RegExp; count: number }[];
  failTask(f: TaskFailure): void;
  /** Every open session becomes invalid (as after a xapi restart or a logout elsewhere). */
  expireSessions(): void;
  /** The next export_raw_vdi stops after this many bytes and the connection is cut. */
  cutExportAfterBytes?: number;
  /** Called as an export starts streaming (a test stops the endpoint at that moment). */
  onExport?: () => void;
}

export interface FakeXapi {
  url: string;
  ca: string;
  db: PoolDb;
  hosts: Record<string, string>;
  tasks: Tasks;
  faults: Faults;
  calls: CallRecord[];
  /** Records answered that departed from the excerpt (a fake bug; tests expect none). */
  problems: string[];
  /** The ref of the VM named `name` (not a snapshot or template). */
  vm(name: string): string;
  stop(): Promise<void>;
}

const token = (n: number): string => String(n).padStart(16, '0');

function html500(res: ServerResponse, info: string): void {
  const body = `<html><body><h1>HTTP 500 internal server error</h1>An unexpected error occurred; please wait a while and try again. If the problem persists, please contact your support representative.<h1> Additional information </h1>${info}</body></html>`;
  res.writeHead(500, 'Internal Error', { 'content-type': 'text/html', 'content-length': Buffer.byteLength(body), connection: 'close', 'cache-control': 'no-cache, no-store' });
  res.end(body);
}

export async function startFakeXapi(opts: FakeXapiOptions = {}): Promise<FakeXapi> {
  const cert = await makeSelfSignedCert('xcp1.fake.invalid');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pv-fake-xapi-'));
  const db = new PoolDb(dir);
  const { hosts } = await buildPool(db, opts.vms ?? DEFAULT_VMS);
  const tasks = new Tasks(db, opts.stepMs ?? 50);
  const sessions = new Map<string, { user: string; expires: number }>();
  const lifetime = opts.sessionLifetimeMs ?? 24 * 3600_000;
  const calls: CallRecord[] = [];
  const problems: string[] = [];
  const faults: Faults = { delayMs: 0, drop: [], failTask: (f) => tasks.failures.push(f), expireSessions: () => sessions.clear() };

  const checkSession = (ref: unknown): void => {
    const s = typeof ref === 'string' ? sessions.get(ref) : undefined;
    if (!s || s.expires < Date.now()) {
      if (typeof ref === 'string') sessions.delete(ref);
      throw new XapiFault('SESSION_INVALID', [String(ref)]);
    }
  };

  const checked = (cls: string, r: Rec): Rec => {
    for (const p of recordProblems(cls, r)) problems.push(p);
    return r;
  };

  /** A generated getter (get_record, get_all, get_FIELD…). */
  const getter = (cls: string, msg: string, args: unknown[]): unknown => {
    const t = db.table(cls);
    if (msg === 'get_all') return [...t.keys()];
    if (msg === 'get_all_records') return Object.fromEntries([...t].map(([k, r]) => [k, checked(cls, r)]));
    if (msg === 'get_by_uuid') {
      const hit = [...t].find(([, r]) => r['uuid'] === args[0]);
      if (!hit) throw new XapiFault('UUID_INVALID', [cls, String(args[0])]);
      return hit[0];
    }
    if (msg === 'get_by_name_label') return db.byName(cls, String(args[0]));
    const r = t.get(String(args[0]));
    if (!r) throw new XapiFault('HANDLE_INVALID', [cls, String(args[0])]);
    if (msg === 'get_record') return checked(cls, r);
    return r[msg.slice(4)];
  };

  const eventFrom = async (args: unknown[]): Promise<unknown> => {
    const classes = (args[0] as string[]).map((c) => c.toLowerCase());
    const want = (c: string): boolean => classes.includes('*') || classes.includes(c);
    const tok = String(args[1]);
    if (tok === '') {
      const events = [];
      for (const [cls, t] of db.tables) {
        if (!want(cls.toLowerCase())) continue;
        for (const [ref, r] of t) events.push({ id: db.lastEventId, timestamp: '', class: cls.toLowerCase(), operation: 'add', ref, snapshot: r });
      }
      return { events, valid_ref_counts: {}, token: token(db.lastEventId) };
    }
    const from = Number(tok);
    if (!/^\d+$/.test(tok)) throw new XapiFault('EVENT_FROM_TOKEN_PARSE_FAILURE', [tok]);
    const until = Date.now() + Math.min(60, Number(args[2])) * 1000;
    for (;;) {
      const events = db.events.filter((e) => e.id > from && want(e.class));
      if (events.length || Date.now() >= until) return { events, valid_ref_counts: {}, token: token(db.lastEventId) };
      await db.nextEvent(until - Date.now());
    }
  };

  const dispatch = async (method: string, params: unknown[]): Promise<unknown> => {
    if (method === 'session.login_with_password') {
      if (params.length !== 4 && params.length !== 2) throw new XapiFault('MESSAGE_PARAMETER_COUNT_MISMATCH', [method, '4', String(params.length)]);
      if (params[0] !== FAKE_USER || params[1] !== FAKE_PASSWORD) throw new XapiFault('SESSION_AUTHENTICATION_FAILED', [String(params[0]), 'Authentication failure']);
      const ref = `OpaqueRef:${randomUUID()}`;
      sessions.set(ref, { user: String(params[0]), expires: Date.now() + lifetime });
      return ref;
    }
    const async = method.startsWith('Async.');
    const [clsRaw, msg] = (async ? method.slice(6) : method).split('.') as [string, string | undefined];
    const cls = className(clsRaw);
    const sig = cls && msg ? signature(cls, msg) : undefined;
    if (!cls || !msg || !sig || (async && !isAsync(cls, msg))) throw new XapiFault('MESSAGE_METHOD_UNKNOWN', [method]);
    checkSession(params[0]);
    const args = params.slice(1);
    if (args.length !== sig.length) throw new XapiFault('MESSAGE_PARAMETER_COUNT_MISMATCH', [method, String(sig.length + 1), String(params.length)]);
    sig.forEach(([n, t], i) => checkParam(n, t, args[i]));
    const key = `${cls}.${msg}`;
    if (key === 'session.logout') {
      sessions.delete(String(params[0]));
      return '';
    }
    if (key === 'event.from') return eventFrom(args);
    if (key === 'task.cancel') return tasks.cancel(String(args[0])), '';
    if (key === 'task.destroy') {
      if (!db.get('task', String(args[0]))) throw new XapiFault('HANDLE_INVALID', ['task', String(args[0])]);
      db.del('task', String(args[0]));
      return '';
    }
    const h = VM_HANDLERS[key];
    if (!h) return getter(cls, msg, args);
    if (!async) return (await h(db, args)) ?? '';
    let ref = '';
    const vm = args[0];
    ref = tasks.start(key, hostOfCall(db, args), async () => {
      markBusy(db, vm, ref, msg, false);
      return h(db, args);
    });
    markBusy(db, vm, ref, msg, true);
    // A task that fails or is cancelled releases the VM too.
    const release = setInterval(() => {
      const t = db.get('task', ref);
      if (!t || t['status'] !== 'pending') {
        clearInterval(release);
        markBusy(db, vm, ref, msg, false);
      }
    }, Math.max(10, tasks.stepMs / 2));
    return ref;
  };

  const jsonrpc = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    let body: { jsonrpc?: string; method?: unknown; params?: unknown; id?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      return html500(res, 'Jsonrpc.Parse_error');
    }
    if (typeof body.method !== 'string' || !Array.isArray(body.params) || body.id === undefined || body.id === null) {
      return html500(res, 'Jsonrpc.Malformed_method_request(&quot;{jsonrpc=...,method=...,id=...}&quot;)');
    }
    const rec: CallRecord = { method: body.method };
    calls.push(rec);
    const drop = faults.drop.find((d) => d.count > 0 && d.match.test(body.method as string));
    if (drop) {
      drop.count--;
      req.socket.destroy();
      return;
    }
    if (faults.delayMs) await new Promise((r) => setTimeout(r, faults.delayMs));
    const v2 = body.jsonrpc === '2.0';
    let answer: unknown;
    try {
      const result = await dispatch(body.method, body.params);
      answer = v2 ? { jsonrpc: '2.0', result, id: body.id } : { result, error: null, id: body.id };
    } catch (err) {
      const f = err instanceof XapiFault ? err : new XapiFault('INTERNAL_ERROR', [String(err)]);
      rec.error = f.code;
      answer = v2 ? { jsonrpc: '2.0', error: { code: 1, message: f.code, data: f.params }, id: body.id } : { result: null, error: [f.code, ...f.params], id: body.id };
    }
    if (res.destroyed) return;
    const text = JSON.stringify(answer);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const exportRaw = async (url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const session = url.searchParams.get('session_id');
    const s = session ? sessions.get(session) : undefined;
    calls.push({ method: 'GET /export_raw_vdi' });
    if (!s || s.expires < Date.now()) {
      res.writeHead(401, 'Unauthorized', { 'content-length': 0 });
      return void res.end();
    }
    const q = url.searchParams.get('vdi') ?? '';
    const vdi = db.get('VDI', q) ? q : [...db.table('VDI')].find(([, r]) => r['uuid'] === q)?.[0];
    const file = vdi ? db.files.get(vdi) : undefined;
    if (!vdi || !file) {
      res.writeHead(404, 'Not Found', { 'content-length': 0 });
      return void res.end();
    }
    const format = url.searchParams.get('format') ?? 'raw';
    if (format !== 'raw' && format !== 'vhd') return html500(res, `Unknown format ${format}`);
    let send = file;
    if (format === 'vhd') {
      send = path.join(dir, `export-${randomUUID()}.vhd`);
      await runChecked('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic,force_size=on', file, send], { timeoutMs: 120_000, failCode: 'INTERNAL' });
    }
    const size = (await stat(send)).size;
    res.writeHead(200, { 'content-type': 'application/octet-stream', ...(format === 'raw' ? { 'content-length': size } : {}) });
    faults.onExport?.();
    const cut = faults.cutExportAfterBytes;
    faults.cutExportAfterBytes = undefined;
    const stream = createReadStream(send, cut !== undefined ? { end: cut - 1 } : {});
    stream.on('end', () => {
      if (cut !== undefined) req.socket.destroy();
      else res.end();
      if (send !== file) void rm(send, { force: true });
    });
    stream.on('data', (c) => res.write(c));
    stream.on('error', () => req.socket.destroy());
  };

  const server = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://fake');
    const go = req.method === 'POST' && url.pathname === '/jsonrpc' ? jsonrpc(req, res)
      : req.method === 'GET' && url.pathname === '/export_raw_vdi' ? exportRaw(url, req, res)
        : Promise.resolve(void res.writeHead(404).end());
    go.catch((err: unknown) => {
      if (!res.headersSent) html500(res, String(err));
      else req.socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`, ca: cert.cert, db, hosts, tasks, faults, calls, problems,
    vm: (name) => {
      const refs = db.byName('VM', name).filter((r) => db.get('VM', r)!['is_a_snapshot'] !== true);
      if (refs.length !== 1) throw new Error(`fake: ${refs.length} VMs named ${name}`);
      return refs[0]!;
    },
    stop: async () => {
      tasks.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export { NULL_REF };

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--step-ms');
  const fake = await startFakeXapi({ stepMs: i > 0 ? Number(process.argv[i + 1]) : 50 });
  process.stdout.write(`${JSON.stringify({ url: fake.url, pid: process.pid, ca: fake.ca })}\n`);
  process.on('SIGTERM', () => void fake.stop().then(() => process.exit(0)));
}
