/** GET /v1/audit: who did what to which resource, when, with which outcome (admin only). */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AuditStore } from '../../store/index.js';
import { queryOf } from '../validate.js';
import { auditSchema } from '../schemas/index.js';

const auditQuery = z.object({
  actor: z.string().max(63).optional(),
  resource: z.string().max(200).optional(),
  before: z.coerce.number().int().min(1).optional().describe('only entries with a smaller id (paging)'),
  since: z.iso.datetime({ offset: true }).optional().describe('only entries at or after this ISO 8601 time'),
  limit: z.coerce.number().int().min(1).max(1000).optional().describe('default 100'),
}).strict();

export function auditRoutes(app: FastifyInstance, audit: AuditStore): void {
  app.get('/v1/audit', { config: { permission: 'audit:read', doc: { summary: 'The audit log, newest first', tags: ['audit'], query: auditQuery, response: { status: 200, description: 'audit entries, newest first', schema: z.array(auditSchema) } } } }, async (req) => {
    const q = queryOf<z.infer<typeof auditQuery>>(req);
    const since = q.since === undefined ? undefined : new Date(q.since).toISOString(); // stored times are UTC ISO strings
    return audit.listAudit(Object.fromEntries(Object.entries({ ...q, since }).filter(([, v]) => v !== undefined)));
  });
}
