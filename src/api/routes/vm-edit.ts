/**
 * PUT /v1/vms/:name: replaces the spec of a VM that is not running (the web
 * UI's edit form, `curl -X PUT` alike). The name cannot change, and neither
 * can the disks: their files exist already, so they change through the disk
 * routes (/v1/vms/:name/disks). Validation is the create route's.
 *
 * POST /v1/vms/:name/clone: a new VM whose disks are copies of this stopped
 * VM's, with its spec or an edited one (async=true: an operation with progress).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { fail, validateName } from '../../shared/index.js';
import { specJsonSchema, validateSpec, type CloneView } from '../../spec/index.js';
import { checkClone, cloneVm, type OperationContext, type OperationRegistry, type VmService } from '../../lifecycle/index.js';
import { presentVm } from '../present.js';
import { bodyOf, queryOf } from '../validate.js';
import { cloneViewSchema, operationSchema, vmViewSchema } from '../schemas/index.js';

const editBody = z.object({ spec: z.unknown() }).strict();
const EDITABLE_STATES = new Set(['created', 'stopped', 'error']);
const cloneBody = z.object({
  name: z.string().describe('name of the new VM'),
  spec: z.unknown().optional().describe("the new VM's spec, edited from the source's (default: the source's; its name must be `name`)"),
}).strict();
const cloneQuery = z.object({ async: z.enum(['true', 'false']).optional().describe('true: answer 202 with an operation at once') }).strict();

export function vmEditRoutes(app: FastifyInstance, service: VmService, ops: OperationRegistry): void {
  app.post<{ Params: { name: string } }>('/v1/vms/:name/clone', {
    config: {
      permission: 'vm:write',
      doc: {
        summary: 'Clone a stopped VM: its disks are copied, read-only images shared; MACs (and, with the source spec, host port forwards) are not copied',
        tags: ['vms'], body: cloneBody, query: cloneQuery, response: { status: 201, description: 'the clone: {vm, copied, shared, notes}', schema: cloneViewSchema },
        otherResponses: [{ status: 202, description: 'async=true: the operation, at once; its result is the clone', schema: operationSchema }],
      },
    },
  }, async (req, reply) => {
    const source = req.params.name;
    validateName(source, 'VM name');
    const body = bodyOf<z.infer<typeof cloneBody>>(req);
    validateName(body.name, 'VM name');
    const spec = body.spec === undefined ? undefined : validateSpec(body.spec);
    const request = { name: body.name, ...(spec ? { spec } : {}) };
    await checkClone(service, source, request); // a clear 4xx now rather than a failed operation later
    const work = async (ctx: OperationContext): Promise<CloneView> => {
      const r = await cloneVm(service, source, request, { signal: ctx.signal, onProgress: (f) => ctx.progress(f) });
      return { vm: presentVm(service, r.record), copied: r.copied, shared: r.shared, notes: r.notes };
    };
    const actor = req.principal?.actor ?? 'anonymous';
    if (queryOf<z.infer<typeof cloneQuery>>(req).async === 'true') {
      const op = ops.start('vm.clone', source, actor, work);
      return reply.status(202).header('location', `/v1/operations/${op.id}`).send(op);
    }
    return reply.status(201).send(await ops.run('vm.clone', source, actor, work));
  });

  app.put<{ Params: { name: string } }>('/v1/vms/:name', {
    config: {
      permission: 'vm:write',
      doc: {
        summary: 'Replace the spec of a VM that is not running (same name, same disks)', tags: ['vms'], body: editBody,
        bodyJsonSchema: () => ({ type: 'object', required: ['spec'], properties: { spec: specJsonSchema() }, additionalProperties: false }),
        response: { status: 200, description: 'the VM', schema: vmViewSchema },
      },
    },
  }, async (req) => {
    const name = req.params.name;
    validateName(name, 'VM name');
    const body = bodyOf<z.infer<typeof editBody>>(req);
    if (!('spec' in body)) fail('INVALID_BODY', 'the body must be {"spec": {...}}', { details: [{ field: 'spec', message: 'required' }] });
    const spec = validateSpec(body.spec);
    if (spec.name !== name) fail('INVALID_BODY', `the spec's name ${spec.name} differs from the VM's ${name}; clone the VM to get a new name`, { details: [{ field: 'name', message: 'cannot change' }] });
    const rec = await service.exclusive(name, async (cur) => {
      if (!EDITABLE_STATES.has(cur.state)) fail('INVALID_TRANSITION', `VM ${name} is ${cur.state}; stop it before editing its spec`);
      if (JSON.stringify(cur.spec.disks) !== JSON.stringify(spec.disks)) {
        fail('INVALID_BODY', 'disks cannot change in an edit; use POST/DELETE /v1/vms/:name/disks', { details: [{ field: 'disks', message: 'cannot change in an edit' }] });
      }
      return service.saveAdmittedSpec(cur, spec);
    });
    return presentVm(service, rec);
  });
}
