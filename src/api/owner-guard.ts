/**
 * A cluster's VMs are shared records, but each runs on one host, its owner:
 * only the owner's daemon may act on it (start, stop, snapshot, edit, move…),
 * or two hosts could run one guest on the same disks. A write to a VM owned by
 * another host is refused with VM_ON_OTHER_HOST naming the owner; reads answer
 * from any host. Runs after authentication and permission checks, so callers
 * without the permission learn nothing about where the VM lives. On one host
 * every VM is this host's and the guard never fires.
 */
import type { FastifyInstance } from 'fastify';
import type { VmService } from '../lifecycle/index.js';
import { fail } from '../shared/index.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function installOwnerGuard(app: FastifyInstance, o: { service: VmService; host: string }): void {
  app.addHook('preHandler', async (req) => {
    if (!WRITES.has(req.method)) return;
    const url = req.routeOptions.url;
    if (url === undefined || !url.startsWith('/v1/vms/:name')) return;
    const name = (req.params as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string') return;
    const rec = await o.service.find(name).catch(() => undefined); // a bad name is the route's own 400
    if (!rec || rec.host === o.host) return;
    fail('VM_ON_OTHER_HOST', `VM ${name} runs on host ${rec.host}, not on ${o.host}: only its host's daemon may change it`, {
      hint: `send the request to ${rec.host}, whose URL \`polyvisor host list\` shows (as a remote: \`polyvisor remote add ${rec.host} URL --token-file FILE\`), or move the VM here first`,
    });
  });
}
