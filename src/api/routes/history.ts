/**
 * Resource history: GET /v1/vms/{name}/history and GET /v1/host/history, the
 * figures the daemon sampled (10 s steps for 1h, 1 min steps for 6h and 1d).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { HistoryRecorder } from '../../history/index.js';
import type { VmService } from '../../lifecycle/index.js';
import { HISTORY_RANGES } from '../../spec/index.js';
import { queryOf } from '../validate.js';
import { hostHistorySchema, vmHistorySchema } from '../schemas/index.js';

/** What the routes need of the recorder. */
export type HistoryQueries = Pick<HistoryRecorder, 'vm' | 'host'>;

const historyQuery = z.object({
  range: z.enum(HISTORY_RANGES).optional().describe('1h (10 s steps, default), 6h or 1d (1 min steps)'),
}).strict();

export function historyRoutes(app: FastifyInstance, service: VmService, history: HistoryQueries): void {
  app.get<{ Params: { name: string } }>('/v1/vms/:name/history', {
    config: { permission: 'vm:read', doc: { summary: 'A VM\'s CPU, memory, disk and network figures over the last hour or day', tags: ['vms'], query: historyQuery, response: { status: 200, description: 'points oldest first; none while the VM was not running', schema: vmHistorySchema } } },
  }, async (req) => {
    const q = queryOf<z.infer<typeof historyQuery>>(req);
    const rec = await service.get(req.params.name);
    return history.vm(rec.id, q.range ?? '1h');
  });

  app.get('/v1/host/history', {
    config: { permission: 'system:read', doc: { summary: 'The host\'s CPU, memory and load over the last hour or day', tags: ['system'], query: historyQuery, response: { status: 200, description: 'points oldest first', schema: hostHistorySchema } } },
  }, async (req) => history.host(queryOf<z.infer<typeof historyQuery>>(req).range ?? '1h'));
}
