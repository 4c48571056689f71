/**
 * PUT /v1/vms/:name: replaces the spec of a VM that is not running (the web
 * UI's edit form, `curl -X PUT` alike). The name cannot change, and neither
 * can the disks: their files exist already, so they change through the disk
 * routes (/v1/vms/:name/disks). Validation is the create route's.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { fail, validateName } from '../../shared/index.js';
import { specJsonSchema, validateSpec } from '../../spec/index.js';
import type { VmService } from '../../lifecycle/index.js';
import { presentVm } from '../present.js';
import { bodyOf } from '../validate.js';

const editBody = z.object({ spec: z.unknown() }).strict();
const EDITABLE_STATES = new Set(['created', 'stopped', 'error']);

export function vmEditRoutes(app: FastifyInstance, service: VmService): void {
  app.put<{ Params: { name: string } }>('/v1/vms/:name', {
    config: {
      permission: 'vm:write',
      doc: {
        summary: 'Replace the spec of a VM that is not running (same name, same disks)', tags: ['vms'], body: editBody,
        bodyJsonSchema: () => ({ type: 'object', required: ['spec'], properties: { spec: specJsonSchema() }, additionalProperties: false }),
        response: { status: 200, description: 'the VM' },
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
      return service.saveSpec(cur, spec);
    });
    return presentVm(service, rec);
  });
}
