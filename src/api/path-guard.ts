/**
 * Audit defect 2: the routes that take a VM spec refuse, for every role but
 * admin, host files outside the folders Polyvisor hands out (pools, the image
 * library, the VM's own directory, the config's pathRoots). Runs after
 * authentication and before the handler, so nothing about the file is looked
 * at (or revealed) before the answer.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SpecPathPolicy } from '../storage/index.js';

/** The spec a request carries and the VM it is for, on the routes that take one. */
function specOf(req: FastifyRequest): { spec: unknown; vmName: string | undefined } | undefined {
  const url = req.routeOptions.url;
  const body = (req.body ?? {}) as { spec?: unknown; name?: unknown };
  const params = (req.params ?? {}) as { name?: string };
  if (typeof body !== 'object' || body.spec === undefined) return undefined;
  const specName = (body.spec as { name?: unknown } | null)?.name;
  if (req.method === 'POST' && url === '/v1/vms') return { spec: body.spec, vmName: typeof specName === 'string' ? specName : undefined };
  if (req.method === 'PUT' && url === '/v1/vms/:name') return { spec: body.spec, vmName: params.name };
  if (req.method === 'POST' && url === '/v1/vms/:name/clone') return { spec: body.spec, vmName: typeof body.name === 'string' ? body.name : undefined };
  return undefined;
}

export function installPathGuard(app: FastifyInstance, policy: SpecPathPolicy): void {
  app.addHook('preHandler', async (req) => {
    const hit = specOf(req);
    if (!hit) return;
    await policy.check(hit.spec, { admin: req.principal?.role === 'admin', vmName: hit.vmName });
  });
}
