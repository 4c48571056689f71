/**
 * Checks real answers against the OpenAPI document the daemon serves: the
 * status must be one the operation documents, the media type one it lists,
 * and a JSON body (or each item of a stream) must validate against the
 * document's JSON Schema with ajv (draft 2020-12, what OpenAPI 3.1 uses).
 */
import http from 'node:http';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import WebSocket from 'ws';

type Json = Record<string, unknown>;
interface Media { schema?: Json; 'x-itemSchema'?: Json }
interface Operation { responses: Record<string, { content?: Record<string, Media> }> }
export interface OpenApiDoc { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Json> } }

export interface Answer {
  method: string;
  /** The route as fastify registers it: /v1/vms/:name */
  route: string;
  status: number;
  contentType: string;
  body: string;
}

const baseType = (t: string): string => t.split(';')[0]!.trim().toLowerCase();

export class ResponseChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  private readonly compiled = new Map<Json, ValidateFunction>();
  /** "GET /v1/vms/:name 200" for every answer that validated. */
  readonly checked = new Set<string>();

  constructor(readonly doc: OpenApiDoc) {
    this.ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
  }

  /** The schema compiled, its references resolved against the document's components. */
  compile(schema: Json): ValidateFunction {
    let v = this.compiled.get(schema);
    if (!v) {
      // References point into the document's components: resolve them against it.
      const linked = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')) as Json;
      v = this.ajv.compile(linked);
      this.compiled.set(schema, v);
    }
    return v;
  }

  /** What is wrong with the answer, or [] when the document describes it. */
  problems(a: Answer): string[] {
    const where = `${a.method} ${a.route} ${a.status}`;
    const op = this.doc.paths[a.route.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[a.method.toLowerCase()];
    if (!op) return [`${where}: not in the document`];
    const res = op.responses[String(a.status)];
    if (!res) return [`${where}: status not documented (has ${Object.keys(op.responses).join(', ')})`];
    if (a.status === 204 || a.status === 101) {
      this.checked.add(where);
      return a.body.length === 0 ? [] : [`${where}: has a body`];
    }
    const content = res.content ?? {};
    const type = baseType(a.contentType);
    const key = Object.keys(content).find((k) => baseType(k) === type) ?? (content['*/*'] ? '*/*' : undefined);
    if (!key) return [`${where}: media type ${a.contentType} not documented (has ${Object.keys(content).join(', ') || 'none'})`];
    const media = content[key]!;
    const items = type === 'application/json' ? [a.body] : type === 'application/x-ndjson' ? a.body.split('\n').filter(Boolean)
      : type === 'text/event-stream' ? [...a.body.matchAll(/^data: (.*)$/gm)].map((m) => m[1]!) : [];
    const schema = type === 'application/json' ? media.schema : media['x-itemSchema'];
    const out: string[] = [];
    if (schema) {
      const v = this.compile(schema);
      for (const item of items) {
        let value: unknown;
        try {
          value = JSON.parse(item);
        } catch {
          out.push(`${where}: not JSON: ${item.slice(0, 80)}`);
          continue;
        }
        if (!v(value)) out.push(`${where}: ${this.ajv.errorsText(v.errors, { separator: '; ' })} in ${item.slice(0, 300)}`);
      }
    }
    if (out.length === 0) this.checked.add(where);
    return out;
  }
}

export interface RawAnswer { status: number; contentType: string; body: string }

/** One request with its raw answer; an event stream is read until `sseEvents` data lines came (or 5 s passed), then cut. */
export function rawCall(base: string, method: string, url: string, o: { token?: string; body?: unknown; sseEvents?: number; timeoutMs?: number } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
    const headers: Record<string, string> = {};
    if (o.token) headers['authorization'] = `Bearer ${o.token}`;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const req = http.request(new URL(url, base), { method, headers }, (res) => {
      const contentType = String(res.headers['content-type'] ?? '');
      let body = '';
      const done = (): void => resolve({ status: res.statusCode!, contentType, body });
      if (contentType.startsWith('text/event-stream')) {
        const timer = setTimeout(() => { res.destroy(); done(); }, 5000);
        res.on('data', (c: Buffer) => {
          body += c.toString();
          if ((body.match(/^data: /gm) ?? []).length >= (o.sseEvents ?? 1)) {
            clearTimeout(timer);
            res.destroy();
            done();
          }
        });
        return;
      }
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', done);
    });
    req.on('error', reject);
    if (o.timeoutMs) req.setTimeout(o.timeoutMs, () => req.destroy(new Error(`${method} ${url}: no answer in ${o.timeoutMs} ms`)));
    req.end(payload);
  });
}

/** Opens a WebSocket and closes it again: the status of the upgrade (101), or of the refusal. */
export function upgradeStatus(base: string, url: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(new URL(url, base.replace(/^http/, 'ws')).toString(), { headers: token ? { authorization: `Bearer ${token}` } : {} });
    ws.on('upgrade', (res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.on('error', (err) => reject(err));
  });
}

/**
 * Answers only a running guest gives (or a second daemon), with why: proven
 * against the document by test/api-contract.test.ts with real QEMU; every
 * other documented answer is proven by src/api/responses.test.ts.
 */
export const GUEST_ANSWERS: Record<string, string> = {
  'POST /v1/vms/:name/:action 200': 'start, stop, pause… finish only with a QEMU',
  'GET /v1/vms/:name/guest 200': 'the guest agent of a running guest',
  'POST /v1/vms/:name/migrate 200': 'a finished move needs a running guest',
  'GET /v1/vms/:name/migration 200': 'a move in progress',
  'POST /v1/vms/:name/migrate/cancel 200': 'a move in progress',
  'POST /v1/vms/:name/migrate/postcopy 200': 'a move in progress with postcopy manual',
  'POST /v1/migrations/incoming 200': 'the target side of a host-to-host move: a driver that receives VMs',
  'GET /v1/migrations/incoming/:id 200': 'a prepared incoming move',
  'POST /v1/migrations/incoming/:id/commit 200': 'a finished stream from the source',
};
