/** Parsing of bodies and query strings with the zod schemas the OpenAPI document is generated from. */
import type { FastifyRequest } from 'fastify';
import type { ZodType } from 'zod';
import { fail, type ErrorCode } from '../shared/index.js';
import { problemsOf } from '../spec/index.js';

export function parseWith<T>(schema: ZodType<T>, value: unknown, what: string, code: ErrorCode = 'INVALID_BODY'): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success) {
    const problems = problemsOf(r.error);
    fail(code, `invalid ${what}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, { details: problems });
  }
  return r.data;
}

/** The body, checked against the route's `config.doc.body`. */
export function bodyOf<T>(req: FastifyRequest): T {
  const schema = req.routeOptions.config?.doc?.body;
  if (!schema) throw new Error(`route ${req.routeOptions.url} parses a body but documents none`);
  if (req.body !== undefined && req.body !== null && (typeof req.body !== 'object' || Array.isArray(req.body))) {
    fail('INVALID_BODY', 'the body must be a JSON object');
  }
  return parseWith(schema as ZodType<T>, req.body, 'body');
}

/** The query string, checked against the route's `config.doc.query`. */
export function queryOf<T>(req: FastifyRequest): T {
  const schema = req.routeOptions.config?.doc?.query;
  if (!schema) throw new Error(`route ${req.routeOptions.url} parses a query but documents none`);
  return parseWith(schema as ZodType<T>, req.query, 'query string', 'INVALID_ARGUMENT');
}
