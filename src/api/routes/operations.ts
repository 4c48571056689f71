/** /v1/operations: long operations started with `?async=true`; list, wait on, cancel. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { OperationRegistry } from '../../lifecycle/index.js';
import { OPERATION_STATUSES } from '../../spec/index.js';
import { queryOf } from '../validate.js';
import { operationSchema } from '../schemas/index.js';

const listQuery = z.object({ vm: z.string().optional(), status: z.enum(OPERATION_STATUSES).optional() }).strict();
const waitQuery = z.object({ timeout: z.coerce.number().min(0).max(3600).optional().describe('seconds to wait at most (default 60)') }).strict();

interface IdParams { id: string }

export function operationRoutes(app: FastifyInstance, ops: OperationRegistry): void {
  const tags = ['operations'];
  app.get('/v1/operations', { config: { permission: 'operation:read', doc: { summary: 'List operations, newest first', tags, query: listQuery, response: { status: 200, description: 'operations, newest first', schema: z.array(operationSchema) } } } }, async (req) => {
    const q = queryOf<z.infer<typeof listQuery>>(req);
    return ops.list({ ...(q.vm ? { vm: q.vm } : {}), ...(q.status ? { status: q.status } : {}) });
  });

  app.get<{ Params: IdParams }>('/v1/operations/:id', { config: { permission: 'operation:read', doc: { summary: 'One operation', tags, response: { status: 200, description: 'the operation', schema: operationSchema } } } }, async (req) => ops.get(req.params.id));

  app.post<{ Params: IdParams }>('/v1/operations/:id/wait', {
    config: { permission: 'operation:read', doc: { summary: 'Wait until the operation finishes or the timeout passes; answers with it as it then is', tags, query: waitQuery, response: { status: 200, description: 'the operation, finished or still running', schema: operationSchema } } },
  }, async (req) => {
    const q = queryOf<z.infer<typeof waitQuery>>(req);
    const gone = new AbortController();
    const onClose = (): void => gone.abort();
    req.raw.socket.once('close', onClose);
    try {
      return await ops.wait(req.params.id, (q.timeout ?? 60) * 1000, gone.signal);
    } finally {
      req.raw.socket.off('close', onClose);
    }
  });

  app.delete<{ Params: IdParams }>('/v1/operations/:id', {
    config: { permission: 'operation:cancel', doc: { summary: 'Cancel a running operation (its work rolls back); a finished one is returned unchanged', tags, response: { status: 200, description: 'the operation', schema: operationSchema } } },
  }, async (req) => ops.cancel(req.params.id));
}
