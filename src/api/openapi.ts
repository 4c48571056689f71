/**
 * The OpenAPI 3.1 document, built from the routes as fastify registers them:
 * their permission, and the zod schemas their handlers parse with
 * (config.doc.body / config.doc.query), so the document cannot drift.
 */
import type { FastifyInstance } from 'fastify';
import { z, type ZodType } from 'zod';
import type { Permission } from './auth/permissions.js';
import { rolesWith } from './auth/permissions.js';
import type { RouteDoc } from './auth/principal.js';

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

const jsonSchema = (s: ZodType): Record<string, unknown> => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

export const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export function openApiDocument(routes: readonly RegisteredRoute[], info: { version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = r.doc?.query instanceof z.ZodObject
      ? Object.entries((r.doc.query as z.ZodObject).shape).map(([name, s]) => ({ name, in: 'query', required: !(s as ZodType).safeParse(undefined).success, schema: jsonSchema(s as ZodType) }))
      : [];
    const body = r.doc?.bodyJsonSchema ? r.doc.bodyJsonSchema() : r.doc?.body ? jsonSchema(r.doc.body) : undefined;
    const ok = r.doc?.response ?? { status: r.websocket ? 101 : 200, description: r.websocket ? 'WebSocket' : 'OK' };
    const op: Record<string, unknown> = {
      summary: r.doc?.summary ?? `${r.method} ${r.url}`,
      tags: r.doc?.tags ?? [r.url.split('/')[2] ?? 'misc'],
      'x-permission': r.permission,
      'x-roles': rolesWith(r.permission),
      security: r.permission === 'public' ? [] : [{ bearer: [] }],
      parameters: [...params, ...query],
      responses: {
        [String(ok.status)]: { description: ok.description },
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
  app.get('/v1/openapi.json', { config: { permission: 'public', doc: { summary: 'This document', tags: ['system'] } } }, async () => (cached ??= openApiDocument(routes, { version })));
}
