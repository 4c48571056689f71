/**
 * /v1/hosts: the cluster's hosts (issue 19; docs/ha.md). Every role reads
 * them; cordoning a host — no new VMs, HA restarts skip it — and draining
 * it are host configuration and need `host:admin` (admins).
 * /v1/schedule/explain: where the scheduler would place a VM and why, host
 * by host (docs/scheduler.md); a read, for every role that reads VMs.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { HostsService } from '../../cluster/index.js';
import { validateSpec, type HostView, type ScheduleExplainView } from '../../spec/index.js';
import { drainSchema, hostSchema, scheduleExplainSchema } from '../schemas/index.js';
import { bodyOf, queryOf } from '../validate.js';

const tags = ['hosts'];
type Params = { Params: { name: string } };
const explainQuery = z.object({ vm: z.string().min(1).describe('the VM to explain (to explain a spec not yet created, POST it)') }).strict();
const explainBody = z.object({ spec: z.unknown().describe('a VM spec, as POST /v1/vms takes it') }).strict();
const explained = { status: 200, description: 'every host with its filters\' verdicts, scores and the chosen host', schema: scheduleExplainSchema };

export function hostRoutes(app: FastifyInstance, hosts: HostsService): void {
  app.get('/v1/hosts', {
    config: { permission: 'system:read', doc: { summary: 'The hosts of the cluster with their state, capacity and what their VMs claim (one host on a single-host daemon)', tags, response: { status: 200, description: 'the hosts', schema: z.array(hostSchema) } } },
  }, async (): Promise<HostView[]> => hosts.list());

  for (const [verb, cordoned] of [['cordon', true], ['uncordon', false]] as const) {
    app.post<Params>(`/v1/hosts/:name/${verb}`, {
      config: { permission: 'host:admin', doc: { summary: cordoned ? 'Cordon a host: no new VMs are placed on it and HA restarts skip it; its VMs keep running' : 'Uncordon a host: it takes VMs again', tags, response: { status: 204, description: cordoned ? 'cordoned' : 'uncordoned' } } },
    }, async (req, reply) => {
      await hosts.setCordoned(req.params.name, cordoned);
      return reply.status(204).send();
    });
  }

  app.post<Params>('/v1/hosts/:name/drain', {
    config: { permission: 'host:admin', doc: { summary: 'Drain a host: it is cordoned and moves every VM it owns to hosts the scheduler picks (running ones live); follow it with GET …/drain', tags, response: { status: 202, description: 'the drain, under way', schema: drainSchema } } },
  }, async (req, reply) => reply.status(202).send(await hosts.drain(req.params.name)));

  app.get<Params>('/v1/hosts/:name/drain', {
    config: { permission: 'system:read', doc: { summary: 'A host\'s drain: its state and each VM\'s action, target host, progress and error', tags, response: { status: 200, description: 'the drain', schema: drainSchema } } },
  }, async (req) => hosts.drainStatus(req.params.name));

  app.get('/v1/schedule/explain', {
    config: { permission: 'vm:read', doc: { summary: 'Where the scheduler would place an existing VM and why: each host\'s filters (the refusing one with the host\'s numbers), scores and the chosen host', tags: ['schedule'], query: explainQuery, response: explained } },
  }, async (req): Promise<ScheduleExplainView> => hosts.explain({ vm: queryOf<z.infer<typeof explainQuery>>(req).vm }));

  app.post('/v1/schedule/explain', {
    config: { permission: 'vm:read', doc: { summary: 'Where the scheduler would place a VM not yet created (its spec) and why, host by host; nothing is created', tags: ['schedule'], body: explainBody, response: explained } },
  }, async (req): Promise<ScheduleExplainView> => hosts.explain({ spec: validateSpec(bodyOf<z.infer<typeof explainBody>>(req).spec) }));
}
