/** Who is calling, and the route options every route must carry. */
import type { ZodType } from 'zod';
import type { Role } from '../../spec/index.js';
import type { Permission } from './permissions.js';

export interface Principal {
  /** Token name, or "local" for the trusted unix socket. */
  actor: string;
  role: Role;
  via: 'unix' | 'tcp';
  /** Set when another cluster host forwarded the request on this caller's behalf (api/owner-forward.ts): that host's name. */
  forwardedBy?: string;
}

/** Documentation and validation of a route; the handler parses with the same schemas (api/validate.ts). */
export interface RouteDoc {
  summary: string;
  tags?: string[];
  body?: ZodType;
  query?: ZodType;
  /** JSON Schema of the body when it is not a zod schema (the VM spec). */
  bodyJsonSchema?: () => Record<string, unknown>;
  /** The success answer: status, description and what its body is (docs/api.md "The contract"). */
  response?: ResponseDoc;
  /** Other successful answers: 202 with an operation (async=true), 201 beside 200, an NDJSON progress stream, a WebSocket upgrade. */
  otherResponses?: ResponseDoc[];
}

/** One successful answer of a route. A body is a zod schema of what the handler returns, or a JSON Schema, or a non-JSON content type. */
export interface ResponseDoc {
  status: number;
  description: string;
  /** The JSON body, as the zod schema of the handler's result (api/schemas/). */
  schema?: ZodType;
  /** The JSON Schema of the body when it is not a zod schema (the VM spec). */
  jsonSchema?: () => Record<string, unknown>;
  /** The body's media type when it is not application/json (text/plain, text/event-stream, text/html…). */
  contentType?: string;
  /** Streams (Server-Sent Events, NDJSON): the JSON of each item (an event's data, a line). */
  itemSchema?: ZodType;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: Permission;
    doc?: RouteDoc;
  }
  interface FastifyRequest {
    principal?: Principal;
    /** Catalogue code of the error this request ended with (set by the error handler, read by the audit hook). */
    errorCode?: string;
    /** Set when this host forwarded the request to the VM's owner (api/owner-forward.ts): the owner's name, for the audit log. */
    forwardedTo?: string;
  }
}

export const LOCAL_ADMIN: Principal = { actor: 'local', role: 'admin', via: 'unix' };
