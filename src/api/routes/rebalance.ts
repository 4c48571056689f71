/**
 * POST /v1/cluster/rebalance (issue 19; docs/cluster.md "Rebalance"): the
 * plan at once with dryRun, otherwise an operation that carries out its live
 * moves (progress: moves finished; detail: each move's state; result: the
 * plan with each move's outcome). Moving VMs between hosts is host
 * configuration: `host:admin`, as drain. A single host answers NOT_A_CLUSTER.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Rebalancer } from '../../cluster/index.js';
import type { OperationRegistry } from '../../lifecycle/index.js';
import { fail } from '../../shared/index.js';
import { onBehalfOf } from '../owner-forward.js';
import { operationSchema, rebalanceSchema } from '../schemas/index.js';
import { bodyOf } from '../validate.js';

const body = z.object({
  dryRun: z.boolean().optional().describe('only plan: nothing moves'),
  threshold: z.number().min(0).max(1).optional().describe('imbalance (highest minus lowest host load, 0-1) above which VMs move; default 0.2'),
  concurrency: z.number().int().min(1).max(16).optional().describe('live moves at once (default 2)'),
}).strict();

export function rebalanceRoutes(app: FastifyInstance, rebalancer: Rebalancer | undefined, ops: OperationRegistry): void {
  app.post('/v1/cluster/rebalance', {
    config: {
      permission: 'host:admin',
      doc: {
        summary: 'Rebalance the cluster: move running VMs live from the most to the least loaded ready hosts until the imbalance is within the threshold (anti-affinity, host pools and cordons respected)',
        tags: ['cluster'], body,
        response: { status: 200, description: 'dryRun: the plan (hosts\' loads, imbalance, the moves)', schema: rebalanceSchema },
        otherResponses: [{ status: 202, description: 'the operation carrying out the moves (Location: /v1/operations/ID); its result is the plan with each move\'s outcome', schema: operationSchema }],
      },
    },
  }, async (req, reply) => {
    if (!rebalancer) fail('NOT_A_CLUSTER', 'this daemon runs on one host; rebalance moves VMs between the hosts of a cluster');
    const b = bodyOf<z.infer<typeof body>>(req);
    if (b.dryRun) return rebalancer.run({ ...b, caller: onBehalfOf(req) });
    await rebalancer.plan(b.threshold); // a bad threshold or an unreachable store fails now, not in the operation
    const caller = onBehalfOf(req);
    const op = ops.start('cluster.rebalance', null, req.principal?.actor ?? 'anonymous', (ctx) => rebalancer.run({ ...b, caller }, ctx));
    return reply.status(202).header('location', `/v1/operations/${op.id}`).send(op);
  });
}
