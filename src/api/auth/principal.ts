/** Who is calling, and the route options every route must carry. */
import type { ZodType } from 'zod';
import type { Role } from '../../spec/index.js';
import type { Permission } from './permissions.js';

export interface Principal {
  /** Token name, or "local" for the trusted unix socket. */
  actor: string;
  role: Role;
  via: 'unix' | 'tcp';
}

/** Documentation and validation of a route; the handler parses with the same schemas (api/validate.ts). */
export interface RouteDoc {
  summary: string;
  tags?: string[];
  body?: ZodType;
  query?: ZodType;
  /** JSON Schema of the body when it is not a zod schema (the VM spec). */
  bodyJsonSchema?: () => Record<string, unknown>;
  /** Success status and a description of what comes back. */
  response?: { status: number; description: string };
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
  }
}

export const LOCAL_ADMIN: Principal = { actor: 'local', role: 'admin', via: 'unix' };
