/** /v1/vms/:name/snapshots: the snapshot tree of a VM; create, list, revert, delete. */
import type { FastifyInstance } from 'fastify';
import { fail } from '../../shared/index.js';
import type { SnapshotService } from '../../lifecycle/index.js';
import { bool, body, optString, str } from './body.js';

interface NameParams { name: string }
interface SnapParams { name: string; snapshot: string }
const write = { config: { permission: 'vm:snapshot' as const } };

export function snapshotRoutes(app: FastifyInstance, snapshots: SnapshotService): void {
  app.get<{ Params: NameParams }>('/v1/vms/:name/snapshots', { config: { permission: 'vm:read' as const } }, async (req) => snapshots.list(req.params.name));

  /** {name, description?, ram?, type?: 'internal'|'external'} */
  app.post<{ Params: NameParams }>('/v1/vms/:name/snapshots', write, async (req, reply) => {
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

  app.post<{ Params: SnapParams }>('/v1/vms/:name/snapshots/:snapshot/revert', write, async (req) => snapshots.revert(req.params.name, req.params.snapshot));

  app.delete<{ Params: SnapParams }>('/v1/vms/:name/snapshots/:snapshot', write, async (req, reply) => {
    await snapshots.delete(req.params.name, req.params.snapshot);
    return reply.status(204).send();
  });
}
