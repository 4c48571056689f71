/** GET /v1/vms/:name/guest: the guest's own account of itself (agent heartbeat and version, OS, hostname, addresses, filesystems, clock). */
import type { FastifyInstance } from 'fastify';
import { guestInfoOf, type VmService } from '../../lifecycle/index.js';
import { guestInfoSchema } from '../schemas/index.js';

export function vmGuestRoutes(app: FastifyInstance, service: VmService): void {
  app.get<{ Params: { name: string } }>('/v1/vms/:name/guest', {
    config: { permission: 'vm:read', doc: { summary: 'What the running guest says about itself through its agent: heartbeat, agent version, OS, hostname, addresses, filesystems, clock', tags: ['vms'], response: { status: 200, description: 'read just now; parts the agent could not give are listed in missing', schema: guestInfoSchema } } },
  }, async (req) => guestInfoOf(service, req.params.name));
}
