/**
 * /v1/stacks: declarative stacks (issue 21). The stack file travels in the
 * body as a document (the CLI reads `from:` files and `--var-file`s itself);
 * plan and graph only read; apply, down and destroy run as operations whose
 * detail is the step report, so their progress is on the event stream.
 * Roles: reading needs vm:read (viewers), changing needs vm:write
 * (operators); a stack with networks also needs network:admin, as creating
 * a network does. Non-admins' VM specs pass the same host-path policy as
 * POST /v1/vms.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { OperationRegistry } from '../../lifecycle/index.js';
import { fail, validateName } from '../../shared/index.js';
import type { StackRequest, StackStatusView, StackSummaryView, StackDriftView } from '../../spec/index.js';
import type { SpecPathPolicy } from '../../storage/index.js';
import { stackJsonSchema, type DesiredStack, type StackService } from '../../stack/index.js';
import { bodyOf } from '../validate.js';
import { roleAllows } from '../auth/permissions.js';
import { operationSchema, stackDriftSchema, stackGraphSchema, stackPlanSchema, stackStatusSchema, stackSummarySchema } from '../schemas/index.js';

const stackBody = z.object({
  document: z.unknown().describe('the stack file as JSON (docs/stacks.md)'),
  variables: z.record(z.string(), z.string()).optional().describe('values of the stack\'s variables (--var k=v)'),
  rollbackOnFailure: z.boolean().optional().describe('apply only: on a failure, remove what this apply created (not what existed before), dependants first'),
}).strict();
const bodyJsonSchema = () => ({
  type: 'object', required: ['document'], additionalProperties: false,
  properties: { document: stackJsonSchema(), variables: { type: 'object', additionalProperties: { type: 'string' } }, rollbackOnFailure: { type: 'boolean' } },
});
const tags = ['stacks'];
type Params = { Params: { name: string } };

export interface StackRouteDeps {
  stacks: StackService;
  ops: OperationRegistry;
  pathPolicy?: SpecPathPolicy | undefined;
}

function desiredOf(req: FastifyRequest, stacks: StackService): DesiredStack {
  const body = bodyOf<StackRequest>(req);
  if (!('document' in body)) fail('INVALID_BODY', 'the body must be {"document": {...stack file...}, "variables": {...}}', { details: [{ field: 'document', message: 'required' }] });
  return stacks.resolve(body.document, body.variables ?? {});
}

/** What a change needs beyond vm:write: network:admin for networks, the path policy for non-admins' specs. */
async function authorize(req: FastifyRequest, d: DesiredStack, pathPolicy: SpecPathPolicy | undefined): Promise<void> {
  const role = req.principal?.role ?? 'viewer';
  if (d.networks.length > 0 && !roleAllows(role, 'network:admin')) {
    fail('FORBIDDEN', `stack ${d.name} has networks (${d.networks.map((n) => n.name).join(', ')}); making them needs the admin role (network:admin)`);
  }
  if (pathPolicy) for (const v of d.vms) await pathPolicy.check(v.spec, { admin: role === 'admin', vmName: v.name });
}

export function stackRoutes(app: FastifyInstance, o: StackRouteDeps): void {
  const actor = (req: FastifyRequest): string => req.principal?.actor ?? 'anonymous';
  const accepted = (reply: { status(n: number): { header(k: string, v: string): { send(x: unknown): unknown } } }, op: { id: string }) =>
    reply.status(202).header('location', `/v1/operations/${op.id}`).send(op);

  app.get('/v1/stacks', {
    config: { permission: 'vm:read', doc: { summary: 'The stacks applied on this host', tags, response: { status: 200, description: 'the stacks', schema: z.array(stackSummarySchema) } } },
  }, async (): Promise<StackSummaryView[]> => o.stacks.list());

  app.post('/v1/stacks/plan', {
    config: { permission: 'vm:read', doc: { summary: 'Plan a stack file against what exists: create, update in place, update with restart, replace, delete, start', tags, body: stackBody, bodyJsonSchema, response: { status: 200, description: 'the plan', schema: stackPlanSchema } } },
  }, async (req) => o.stacks.plan(desiredOf(req, o.stacks)));

  app.post('/v1/stacks/graph', {
    config: { permission: 'vm:read', doc: { summary: 'The dependency order of a stack file, as levels, text and Graphviz DOT', tags, body: stackBody, bodyJsonSchema, response: { status: 200, description: 'the graph', schema: stackGraphSchema } } },
  }, async (req) => o.stacks.graph(desiredOf(req, o.stacks)));

  app.post('/v1/stacks/apply', {
    config: { permission: 'vm:write', doc: { summary: 'Apply a stack file: its plan in dependency order (an operation; its detail is the step report)', tags, body: stackBody, bodyJsonSchema, response: { status: 202, description: 'the operation, at once', schema: operationSchema } } },
  }, async (req, reply) => {
    const d = desiredOf(req, o.stacks);
    await authorize(req, d, o.pathPolicy);
    await o.stacks.plan(d); // a conflict (STACK_CONFLICT) or a bad reference answers now, not as a failed operation
    await o.stacks.refuseIfBusy(d.name); // so does a lock held by another apply (on any daemon of the store)
    const rollbackOnFailure = bodyOf<StackRequest>(req).rollbackOnFailure === true;
    const op = o.ops.start('stack.apply', null, actor(req), (ctx) => o.stacks.apply(d, { signal: ctx.signal, rollbackOnFailure, onReport: (r) => {
      ctx.detail?.(r as unknown as Record<string, unknown>);
      if (r.steps.length > 0) ctx.progress((r.done + r.failed + r.skipped) / r.steps.length);
    } }));
    return accepted(reply, op);
  });

  app.get<Params>('/v1/stacks/:name', {
    config: { permission: 'vm:read', doc: { summary: 'Every member of a stack with its state, address and readiness', tags, response: { status: 200, description: 'the status', schema: stackStatusSchema } } },
  }, async (req): Promise<StackStatusView> => {
    validateName(req.params.name, 'stack name');
    return o.stacks.status(req.params.name, AbortSignal.timeout(20_000));
  });

  app.get<Params>('/v1/stacks/:name/drift', {
    config: { permission: 'vm:read', doc: { summary: 'What changed out of band since the last apply (stopped, resized, deleted by hand, a network removed)', tags, response: { status: 200, description: 'the drift', schema: stackDriftSchema } } },
  }, async (req): Promise<StackDriftView> => {
    validateName(req.params.name, 'stack name');
    return o.stacks.drift(req.params.name);
  });

  app.post<Params>('/v1/stacks/:name/down', {
    config: { permission: 'vm:write', doc: { summary: 'Stop every VM of a stack, dependants first (an operation)', tags, response: { status: 202, description: 'the operation, at once', schema: operationSchema } } },
  }, async (req, reply) => {
    validateName(req.params.name, 'stack name');
    await o.stacks.status(req.params.name, AbortSignal.timeout(20_000)); // STACK_NOT_FOUND now
    await o.stacks.refuseIfBusy(req.params.name);
    const op = o.ops.start('stack.down', null, actor(req), (ctx) => o.stacks.down(req.params.name, { signal: ctx.signal, onReport: (r) => ctx.detail?.(r as unknown as Record<string, unknown>) }));
    return accepted(reply, op);
  });

  app.delete<Params>('/v1/stacks/:name', {
    config: { permission: 'vm:write', doc: { summary: 'Destroy a stack: remove every VM, volume and network it owns, and nothing else (an operation)', tags, response: { status: 202, description: 'the operation, at once', schema: operationSchema } } },
  }, async (req, reply) => {
    validateName(req.params.name, 'stack name');
    const nets = await o.stacks.networksOf(req.params.name); // STACK_NOT_FOUND now
    if (nets.length > 0 && !roleAllows(req.principal?.role ?? 'viewer', 'network:admin')) {
      fail('FORBIDDEN', `stack ${req.params.name} owns networks (${nets.join(', ')}); removing them needs the admin role (network:admin)`);
    }
    await o.stacks.refuseIfBusy(req.params.name);
    const op = o.ops.start('stack.destroy', null, actor(req), (ctx) => o.stacks.destroy(req.params.name, { signal: ctx.signal, onReport: (r) => ctx.detail?.(r as unknown as Record<string, unknown>) }));
    return accepted(reply, op);
  });
}
