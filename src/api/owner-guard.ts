/**
 * A cluster's VMs are shared records, but each runs on one host, its owner:
 * only the owner's daemon may act on it (start, stop, snapshot, edit, move…),
 * or two hosts could run one guest on the same disks. A write to a VM owned by
 * another host is refused with VM_ON_OTHER_HOST naming the owner; reads answer
 * from any host. Runs after authentication and permission checks, so callers
 * without the permission learn nothing about where the VM lives. On one host
 * every VM is this host's and the guard never fires. With a forwarder (a
 * cluster host, forwardWrites on) the write is sent on to the owner and its
 * answer returned instead (owner-forward.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { VmService } from '../lifecycle/index.js';
import { forwardToOwner, type OwnerForwarder } from './owner-forward.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function installOwnerGuard(app: FastifyInstance, o: { service: VmService; host: string; forwarder?: OwnerForwarder }): void {
  app.addHook('preHandler', async (req, reply) => {
    if (!WRITES.has(req.method)) return;
    const url = req.routeOptions.url;
    if (url === undefined || !url.startsWith('/v1/vms/:name')) return;
    const name = (req.params as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string') return;
    const rec = await o.service.find(name).catch(() => undefined); // a bad name is the route's own 400
    if (!rec || rec.host === o.host) return;
    return forwardToOwner(req, reply, { forwarder: o.forwarder, self: o.host, vm: name, owner: rec.host });
  });
}
