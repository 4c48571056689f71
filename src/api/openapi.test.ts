/**
 * The OpenAPI document of a daemon with every service wired: every route
 * says what its success answer's body is, and the whole document passes an
 * OpenAPI 3.1 validator (@seriousme/openapi-schema-validator) with every
 * JSON Schema in it compiling under ajv (draft 2020-12).
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openFullStubStack, type FullStubStack } from '../../test/helpers/full-stub-stack.js';
import { ResponseChecker, type OpenApiDoc } from '../../test/helpers/openapi-check.js';
import { openApiDocument, responseDocs, undocumentedBody } from './openapi.js';

let stack: FullStubStack;
let doc: Record<string, unknown>;

beforeAll(async () => {
  stack = await openFullStubStack('openapi');
  await stack.api.app.ready();
  doc = (await stack.api.app.inject({ method: 'GET', url: '/v1/openapi.json' })).json();
});
afterAll(() => stack?.close());

describe('the OpenAPI document', () => {
  it('has every route the daemon registers, each with what its success answer holds', () => {
    const routes = stack.api.routes;
    expect(routes.length).toBeGreaterThan(60);
    const missing = routes.flatMap((r) => responseDocs(r).filter(undocumentedBody).map((d) => `${r.method} ${r.url} ${d.status}`));
    expect(missing, 'routes whose answer has no schema or content type (add doc.response: docs/api.md)').toEqual([]);
    const upgrades = routes.filter((r) => responseDocs(r).some((d) => d.status === 101)).map((r) => `${r.method} ${r.url}`);
    for (const r of routes) expect(upgrades.includes(`${r.method} ${r.url}`), `${r.method} ${r.url}: 101 only and always for WebSocket routes`).toBe(r.websocket);
  });

  it('a route without a response schema is caught', () => {
    const bare = { method: 'GET', url: '/v1/x', permission: 'vm:read' as const, websocket: false, doc: { summary: 'x' } };
    expect(responseDocs(bare).filter(undocumentedBody)).toHaveLength(1);
    expect(responseDocs({ ...bare, doc: { summary: 'x', response: { status: 200, description: 'x', schema: z.string() } } }).filter(undocumentedBody)).toHaveLength(0);
    expect(responseDocs({ ...bare, method: 'DELETE', doc: { summary: 'x', response: { status: 204, description: 'gone' } } }).filter(undocumentedBody)).toHaveLength(0);
  });

  it('passes an OpenAPI 3.1 validator', async () => {
    const v = new Validator();
    const res = await v.validate(structuredClone(doc));
    expect(res.errors ?? [], JSON.stringify(res.errors, null, 1)?.slice(0, 2000)).toEqual([]);
    expect(res.valid).toBe(true);
    expect(v.version).toBe('3.1');
  });

  it('the validator is not a rubber stamp: a broken document fails', async () => {
    const broken = structuredClone(doc) as { paths: Record<string, Record<string, { responses: unknown }>> };
    broken.paths['/v1/health']!['get']!.responses = { 200: { content: {} } }; // a response needs a description
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('every schema compiles as JSON Schema 2020-12, and shared views are components', () => {
    const checker = new ResponseChecker(doc as unknown as OpenApiDoc);
    const components = (doc['components'] as { schemas: Record<string, unknown> }).schemas;
    const schemas: unknown[] = [];
    const walk = (v: unknown, key?: string): void => {
      if (Array.isArray(v)) v.forEach((x) => walk(x));
      else if (v && typeof v === 'object') {
        if ((key === 'schema' || key === 'x-itemSchema')) schemas.push(v);
        for (const [k, x] of Object.entries(v)) walk(x, k);
      }
    };
    walk(doc['paths']);
    expect(schemas.length).toBeGreaterThan(100);
    for (const s of schemas) expect(() => checker.compile(s as Record<string, unknown>)).not.toThrow();
    for (const id of ['Vm', 'Operation', 'Event', 'Token', 'Pool', 'Volume', 'Image', 'Snapshot', 'Backup', 'MigrationResult', 'Error']) expect(components[id], id).toBeDefined();
  });

  it('is the same document the function builds from the routes', () => {
    expect(openApiDocument(stack.api.routes, { version: 't' })).toEqual(doc);
  });
});
