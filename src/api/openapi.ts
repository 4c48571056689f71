/**
 * The OpenAPI 3.1 document, built from the routes as fastify registers them:
 * their permission, and the zod schemas their handlers parse with
 * (config.doc.body / config.doc.query), so the document cannot drift.
 */
import type { FastifyInstance } from 'fastify';
import { z, type ZodType } from 'zod';
import type { Permission } from './auth/permissions.js';
import { rolesWith } from './auth/permissions.js';
import type { ResponseDoc, RouteDoc } from './auth/principal.js';
import { jsonDocument } from './schemas/index.js';

export interface RegisteredRoute {
  method: string;
  url: string;
  permission: Permission;
  doc?: RouteDoc;
  websocket: boolean;
}

/** Records every route the app registers (HEAD twins of GET routes excluded). */
export function collectRoutes(app: FastifyInstance): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    const cfg = (r.config ?? {}) as { permission: Permission; doc?: RouteDoc };
    const websocket = Boolean((r as { websocket?: boolean }).websocket || (r as { wsHandler?: unknown }).wsHandler);
    for (const m of methods) {
      if (m === 'HEAD') continue;
      routes.push({ method: m, url: r.url, permission: cfg.permission, websocket, ...(cfg.doc ? { doc: cfg.doc } : {}) });
    }
  });
  return routes;
}

type Json = Record<string, unknown>;

/**
 * JSON Schema of a zod schema. Schemas registered with an id (`.meta({ id })`,
 * the shared views of api/schemas/) become components: their definitions go
 * to `defs` and the references point at `#/components/schemas/ID`.
 */
function jsonSchema(s: ZodType, io: 'input' | 'output', defs: Json): Json {
  const { $schema: _drop, $defs, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json & { $defs?: Json };
  for (const [id, def] of Object.entries($defs ?? {})) {
    const moved = relink(def) as Json;
    if (defs[id] !== undefined && JSON.stringify(defs[id]) !== JSON.stringify(moved)) throw new Error(`two different schemas are registered as ${id}`);
    defs[id] = moved;
  }
  return relink(rest) as Json;
}

const relink = (v: unknown): unknown => JSON.parse(JSON.stringify(v).replaceAll('"#/$defs/', '"#/components/schemas/'));

/** A JSON Schema placed inside the document: an `$id` would make it a resource of its own, and one may appear only once. */
const embedded = (s: Json): Json => JSON.parse(JSON.stringify(s, (k, v: unknown) => (k === '$id' || k === '$schema' ? undefined : v))) as Json;

/** The answers a route documents: its success answer (by default 200, or 101 for a WebSocket) and any others. */
export function responseDocs(r: RegisteredRoute): ResponseDoc[] {
  const primary = r.doc?.response ?? { status: r.websocket ? 101 : 200, description: r.websocket ? 'WebSocket' : 'OK' };
  return [primary, ...(r.doc?.otherResponses ?? [])];
}

/** A success answer that says nothing about its body although it has one (every answer but 204 and a WebSocket's 101 has a body). */
export function undocumentedBody(d: ResponseDoc): boolean {
  return d.status !== 204 && d.status !== 101 && !d.schema && !d.jsonSchema && !d.contentType;
}

function responsesOf(r: RegisteredRoute, defs: Json): Json {
  const out: Record<string, { description: string; content?: Record<string, Json> }> = {};
  for (const d of responseDocs(r)) {
    const entry = (out[String(d.status)] ??= { description: d.description });
    if (entry.description !== d.description) entry.description += `; ${d.description}`;
    const type = d.contentType ?? 'application/json';
    const media: Json | undefined = d.schema && d.contentType === undefined ? { schema: jsonSchema(d.schema, 'output', defs) }
      : d.jsonSchema ? { schema: embedded(d.jsonSchema()) }
      : d.contentType ? { schema: { type: 'string' }, ...(d.itemSchema ? { 'x-itemSchema': jsonSchema(d.itemSchema, 'output', defs) } : {}) }
      : undefined;
    if (media) (entry.content ??= {})[type] = media;
  }
  return out;
}

export const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export function openApiDocument(routes: readonly RegisteredRoute[], info: { version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const defs: Json = {};
  for (const r of routes) {
    const params = [...r.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = r.doc?.query instanceof z.ZodObject
      ? Object.entries((r.doc.query as z.ZodObject).shape).map(([name, s]) => ({ name, in: 'query', required: !(s as ZodType).safeParse(undefined).success, schema: jsonSchema(s as ZodType, 'input', defs) }))
      : [];
    const body = r.doc?.bodyJsonSchema ? embedded(r.doc.bodyJsonSchema()) : r.doc?.body ? jsonSchema(r.doc.body, 'input', defs) : undefined;
    const op: Record<string, unknown> = {
      summary: r.doc?.summary ?? `${r.method} ${r.url}`,
      tags: r.doc?.tags ?? [r.url.split('/')[2] ?? 'misc'],
      'x-permission': r.permission,
      'x-roles': rolesWith(r.permission),
      security: r.permission === 'public' ? [] : [{ bearer: [] }],
      parameters: [...params, ...query],
      responses: {
        ...responsesOf(r, defs),
        default: { description: 'an error from the catalogue (docs/errors.md)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
    if (r.websocket) op['x-websocket'] = true;
    if (body) op['requestBody'] = { required: false, content: { 'application/json': { schema: body } } };
    (paths[openApiPath(r.url)] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Polyvisor API', version: info.version, description: 'Unix socket: trusted local admin. TCP: `Authorization: Bearer TOKEN`; see docs/api.md.' },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        ...defs,
        Error: {
          type: 'object',
          required: ['code', 'message', 'hint'],
          properties: { code: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' }, details: {} },
        },
      },
    },
  };
}

export function openApiRoute(app: FastifyInstance, routes: readonly RegisteredRoute[], version: string): void {
  let cached: Record<string, unknown> | undefined;
  app.get('/v1/openapi.json', { config: { permission: 'public', doc: { summary: 'This document', tags: ['system'], response: { status: 200, description: 'the OpenAPI 3.1 document', schema: jsonDocument } } } }, async () => (cached ??= openApiDocument(routes, { version })));
}
