/** /v1/vms: thin routes (DESIGN rule 1): validate, call the service, map the result. */
import { open, stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { fail, NAME_PATTERN, validateName } from '../../shared/index.js';
import { specJsonSchema, validateSpec } from '../../spec/index.js';
import type { NicService, OperationContext, OperationRegistry, VmService } from '../../lifecycle/index.js';
import { PlacedCreate, type CreatePlacer } from '../create-placement.js';
import { parseLabelSelector } from '../label-selector.js';
import { presentVm } from '../present.js';
import { bodyOf, queryOf } from '../validate.js';
import { operationSchema, TEXT, vmViewSchema } from '../schemas/index.js';

const ACTIONS = ['start', 'stop', 'kill', 'pause', 'resume', 'reboot', 'suspend'] as const;
type Action = (typeof ACTIONS)[number];

interface NameParams { name: string }

const createBody = z.object({
  spec: z.unknown(),
  host: z.string().regex(NAME_PATTERN, 'auto, or a host name from `polyvisor host list`').optional()
    .describe('where to create it: "auto" (the scheduler places it; on a single host, this host) or a host\'s name; left out, on the host that receives the request'),
}).strict();
const actionBody = z.object({
  timeoutSeconds: z.number().int().min(1).max(3600).optional().describe('stop: seconds to wait for the guest before killing it'),
  force: z.boolean().optional().describe('stop: kill at once'),
}).strict();
const actionQuery = z.object({ async: z.enum(['true', 'false']).optional().describe('true: answer 202 with an operation at once') }).strict();
const listQuery = z.object({
  label: z.union([z.string(), z.array(z.string())]).optional().describe('key=value[,key=value]; every label must match'),
  hosts: z.enum(['this', 'all']).optional().describe('this (default): the VMs this host owns; all: every host\'s VMs of the cluster (the same on a single host)'),
}).strict();
const removeQuery = z.object({ force: z.enum(['true', 'false']).optional().describe('kill the VM first if it runs') }).strict();
const logQuery = z.object({ bytes: z.coerce.number().int().min(1).max(4 * 1024 * 1024).optional().describe('default 65536') }).strict();

const ASYNC = { status: 202, description: 'async=true: the operation, at once (Location: /v1/operations/ID); its result is the VM', schema: operationSchema };

const actor = (req: FastifyRequest): string => req.principal?.actor ?? 'anonymous';

export function vmRoutes(app: FastifyInstance, service: VmService, ops: OperationRegistry, nics?: NicService, placer?: CreatePlacer): void {
  const tags = ['vms'];
  const placed = new PlacedCreate(service, placer);
  app.get('/v1/vms', { config: { permission: 'vm:read', doc: { summary: 'List VMs', tags, query: listQuery, response: { status: 200, description: 'the VMs', schema: z.array(vmViewSchema) } } } }, async (req) => {
    const q = queryOf<z.infer<typeof listQuery>>(req);
    const labels = parseLabelSelector(q.label);
    const list = await (q.hosts === 'all' ? service.listAll(labels ? { labels } : undefined) : service.list(labels ? { labels } : undefined));
    return list.map((r) => presentVm(service, r));
  });

  app.post('/v1/vms', {
    config: { permission: 'vm:write', doc: { summary: 'Create a VM from a spec', tags, body: createBody, bodyJsonSchema: () => ({ type: 'object', required: ['spec'], properties: { spec: specJsonSchema(), host: { type: 'string', description: 'where to create it: "auto" (the scheduler places it) or a host\'s name; left out, on the host that receives the request' } }, additionalProperties: false }), response: { status: 201, description: 'the VM (its `host` names where it was created)', schema: vmViewSchema } } },
  }, async (req, reply) => {
    const body = bodyOf<z.infer<typeof createBody>>(req);
    if (!('spec' in body)) fail('INVALID_BODY', 'the body must be {"spec": {...}}', { details: [{ field: 'spec', message: 'required' }] });
    const spec = validateSpec(body.spec);
    if (body.host !== undefined) return placed.create(req, reply, { spec, rawSpec: body.spec, want: body.host });
    const rec = await service.create(spec);
    return reply.status(201).send(presentVm(service, rec));
  });

  app.get<{ Params: NameParams }>('/v1/vms/:name', { config: { permission: 'vm:read', doc: { summary: 'One VM', tags, response: { status: 200, description: 'the VM', schema: vmViewSchema } } } },
    async (req) => {
      const rec = await service.get(req.params.name);
      // One VM (vm show): its NICs with their addresses too; lists stay cheap.
      return { ...presentVm(service, rec), ...(nics ? { nics: await nics.viewsOf(rec, { agent: true }) } : {}) };
    });

  app.delete<{ Params: NameParams }>('/v1/vms/:name', {
    config: { permission: 'vm:write', doc: { summary: 'Remove a VM that is not running (force: kill it first)', tags, query: removeQuery, response: { status: 204, description: 'removed' } } },
  }, async (req, reply) => {
    const q = queryOf<z.infer<typeof removeQuery>>(req);
    await service.remove(req.params.name, { force: q.force === 'true' });
    return reply.status(204).send();
  });

  app.post<{ Params: NameParams & { action: string } }>('/v1/vms/:name/:action', {
    config: { permission: 'vm:operate', doc: { summary: `Run an action: ${ACTIONS.join(', ')}`, tags, body: actionBody, query: actionQuery, response: { status: 200, description: 'the VM after the action', schema: vmViewSchema }, otherResponses: [ASYNC] } },
  }, async (req, reply) => {
    const { name, action } = req.params;
    if (!(ACTIONS as readonly string[]).includes(action)) fail('ROUTE_NOT_FOUND', `unknown action ${action}; use one of ${ACTIONS.join(', ')}`);
    validateName(name, 'VM name');
    const body = bodyOf<z.infer<typeof actionBody>>(req);
    const q = queryOf<z.infer<typeof actionQuery>>(req);
    const work = async (ctx: OperationContext) => presentVm(service, await runAction(service, name, action as Action, body, ctx));
    if (q.async === 'true') {
      await service.get(name); // 404 now rather than a failed operation later
      const op = ops.start(`vm.${action}`, name, actor(req), work);
      return reply.status(202).header('location', `/v1/operations/${op.id}`).send(op);
    }
    return ops.run(`vm.${action}`, name, actor(req), work);
  });

  app.get<{ Params: NameParams }>('/v1/vms/:name/serial-log', {
    // vm:console, not vm:read: the console log shows what the guest printed (passwords, keys, cloud-init output).
    config: { permission: 'vm:console', doc: { summary: 'The end of the serial console log (text/plain)', tags, query: logQuery, response: { status: 200, description: 'the last bytes of the log (empty before the first start)', contentType: TEXT.plain } } },
  }, async (req, reply) => {
    const rec = await service.get(req.params.name);
    const want = queryOf<z.infer<typeof logQuery>>(req).bytes ?? 65536;
    const file = service.files(rec).serialLog;
    const st = await stat(file).catch(() => undefined);
    if (!st) return reply.type('text/plain; charset=utf-8').send('');
    const fh = await open(file, 'r');
    try {
      const len = Math.min(want, st.size);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, st.size - len);
      return reply.type('text/plain; charset=utf-8').send(buf.toString('utf8'));
    } finally {
      await fh.close();
    }
  });
}

function runAction(service: VmService, name: string, action: Action, body: z.infer<typeof actionBody>, ctx: OperationContext) {
  const o = { signal: ctx.signal, onProgress: ctx.progress };
  switch (action) {
    case 'stop': return service.stop(name, { ...o, ...(body.timeoutSeconds !== undefined ? { timeoutSeconds: body.timeoutSeconds } : {}), force: body.force === true });
    case 'start': return service.start(name, o);
    case 'kill': return service.kill(name);
    case 'pause': return service.pause(name);
    case 'resume': return service.resume(name, o);
    case 'reboot': return service.reboot(name, o);
    case 'suspend': return service.suspend(name, o);
  }
}
