/** /v1/vms/:name/snapshots: the snapshot tree of a VM; create, list, revert, delete. */
import type { FastifyInstance } from 'fastify';
import { fail } from '../../shared/index.js';
import type { SnapshotService } from '../../lifecycle/index.js';
import { bool, body, optString, str } from './body.js';
import type { ResponseDoc } from '../auth/principal.js';
import { revertSchema, snapshotListSchema, snapshotSchema } from '../schemas/index.js';

interface NameParams { name: string }
interface SnapParams { name: string; snapshot: string }
const tags = ['snapshots'];
const write = (summary: string, response: ResponseDoc) => ({ config: { permission: 'vm:snapshot' as const, doc: { summary, tags, response } } });

export function snapshotRoutes(app: FastifyInstance, snapshots: SnapshotService): void {
  app.get<{ Params: NameParams }>('/v1/vms/:name/snapshots', {
    config: { permission: 'vm:read', doc: { summary: 'The snapshot tree of a VM', tags, response: { status: 200, description: 'the snapshots and which one is current', schema: snapshotListSchema } } },
  }, async (req) => snapshots.list(req.params.name));

  /** {name, description?, ram?, type?: 'internal'|'external'} */
  app.post<{ Params: NameParams }>('/v1/vms/:name/snapshots', write('Take a snapshot {name, description?, ram?, type?: internal|external}', { status: 201, description: 'the snapshot', schema: snapshotSchema }), async (req, reply) => {
    const b = body(req.body);
    const description = optString(b, 'description');
    if (description !== undefined && description.length > 1024) fail('INVALID_BODY', 'description is at most 1024 characters');
    const ram = bool(b, 'ram');
    const type = optString(b, 'type');
    if (type !== undefined && type !== 'internal' && type !== 'external') fail('INVALID_BODY', 'type is internal or external');
    const out = await snapshots.create(req.params.name, {
      name: str(b, 'name'), ...(description !== undefined ? { description } : {}), ...(ram !== undefined ? { ram } : {}), ...(type !== undefined ? { type } : {}),
    });
    return reply.status(201).send(out);
  });

  app.post<{ Params: SnapParams }>('/v1/vms/:name/snapshots/:snapshot/revert', write('Revert the VM to a snapshot', { status: 200, description: 'what the revert did', schema: revertSchema }), async (req) => snapshots.revert(req.params.name, req.params.snapshot));

  app.delete<{ Params: SnapParams }>('/v1/vms/:name/snapshots/:snapshot', write('Delete a snapshot (its data folds into its children)', { status: 204, description: 'deleted' }), async (req, reply) => {
    await snapshots.delete(req.params.name, req.params.snapshot);
    return reply.status(204).send();
  });
}
