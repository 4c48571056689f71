/**
 * /v1/drivers, /v1/endpoints, /v1/inventory and the foreign VMs of each
 * endpoint (/v1/endpoints/{endpoint}/vms/{vm}/…). Admins add and remove
 * endpoints (`endpoint:admin`: their credentials go to the secrets store and
 * never come back); operators act on foreign VMs with the permissions they
 * have on local ones. A capability the VM's driver lacks is refused before
 * anything is sent (CAPABILITY_NOT_SUPPORTED).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { EndpointService } from '../../endpoints/index.js';
import { FOREIGN_ACTIONS, isForeignAction } from '../../endpoints/index.js';
import type { OperationRegistry, VmService } from '../../lifecycle/index.js';
import { presentVm } from '../present.js';
import type { ImportView } from '../../spec/index.js';
import { fail, validateName } from '../../shared/index.js';
import { parseSize } from '../../spec/index.js';
import { bodyOf, queryOf } from '../validate.js';
import { driverSchema, endpointSchema, foreignSnapshotSchema, foreignVmSchema, importSchema, inventorySchema, moveOutSchema, operationSchema } from '../schemas/index.js';

const tags = ['endpoints'];
const actor = (req: FastifyRequest): string => req.principal?.actor ?? 'anonymous';

const addBody = z.object({
  name: z.string().describe('1-63 letters, digits, "-", "_", "."; not "local"'),
  driver: z.string().describe('libvirt, vsphere, proxmox, hyperv or xcpng (`GET /v1/drivers`)'),
  url: z.string().describe('qemu+unix:///system?socket=…, https://vcenter/sdk, https://pve:8006'),
  user: z.string().optional(),
  password: z.string().optional().describe('kept encrypted in the secrets store, never returned'),
  token: z.string().optional().describe('an API token instead of a password; kept encrypted, never returned'),
  ca: z.string().optional().describe('PEM of the CA (or self-signed certificate) to trust'),
  insecure: z.boolean().optional().describe('skip certificate checks (labs only)'),
}).strict();
const inventoryQuery = z.object({
  endpoint: z.string().optional().describe('only this endpoint ("local" for this daemon\'s VMs)'),
  fresh: z.enum(['true', 'false']).optional().describe('true: ask every endpoint now instead of using the cache'),
}).strict();
const asyncQuery = z.object({ async: z.enum(['true', 'false']).optional().describe('true: answer 202 with an operation at once') }).strict();
const snapBody = z.object({ name: z.string(), description: z.string().max(1024).optional(), memory: z.boolean().optional().describe('keep RAM (needs snapshot.memory)') }).strict();
const migrateBody = z.object({ host: z.string().describe('a host of the same endpoint (`GET /v1/endpoints/{name}` lists them)') }).strict();
const reconfigureBody = z.object({ cpus: z.number().int().min(1).max(256).optional(), memory: z.union([z.string(), z.number()]).optional().describe('"2Gi", or a number of MiB') }).strict();
const cloneBody = z.object({ name: z.string() }).strict();
const moveBody = z.object({
  endpoint: z.string().describe('the endpoint to move the VM to (a driver with move.fromLocal: libvirt)'),
  start: z.boolean().optional().describe('start it there once defined'),
  keep: z.boolean().optional().describe('keep the local VM (a copy rather than a move)'),
}).strict();
const importBody = z.object({
  name: z.string().optional().describe('the local VM\'s name (default: the source\'s)'),
  shutdown: z.boolean().optional().describe('shut a running source down first (else it is refused)'),
  start: z.boolean().optional().describe('start the local VM once imported (default true)'),
}).strict();

interface EP { endpoint: string }
interface VP extends EP { vm: string }
const ASYNC = { status: 202, description: 'async=true: the operation, at once (Location: /v1/operations/ID)', schema: operationSchema };

export function endpointRoutes(app: FastifyInstance, endpoints: EndpointService, ops: OperationRegistry, vms: VmService): void {
  /** Runs long work as an operation: waited for, or answered at once with async=true. */
  const operate = async <T>(req: FastifyRequest, reply: { status(n: number): { header(k: string, v: string): { send(x: unknown): unknown } } }, kind: string, ref: string, work: (signal: AbortSignal, progress: (f: number) => void) => Promise<T>) => {
    const q = queryOf<z.infer<typeof asyncQuery>>(req);
    const fn = (ctx: { signal: AbortSignal; progress: (f: number) => void }) => work(ctx.signal, ctx.progress);
    if (q.async === 'true') {
      const op = ops.start(kind, ref, actor(req), fn);
      return reply.status(202).header('location', `/v1/operations/${op.id}`).send(op);
    }
    return ops.run(kind, ref, actor(req), fn);
  };

  app.get('/v1/drivers', {
    config: { permission: 'system:read', doc: { summary: 'Every driver and its capability matrix', tags, response: { status: 200, description: 'the drivers', schema: z.array(driverSchema) } } },
  }, async () => endpoints.drivers());

  app.get('/v1/endpoints', {
    config: { permission: 'vm:read', doc: { summary: 'The endpoints (other hypervisors) this daemon manages; never their credentials', tags, response: { status: 200, description: 'the endpoints', schema: z.array(endpointSchema) } } },
  }, async () => endpoints.list());

  app.post('/v1/endpoints', {
    config: { permission: 'endpoint:admin', doc: { summary: 'Add an endpoint: the connection is proven first; nothing is kept when it fails', tags, body: addBody, response: { status: 201, description: 'the endpoint, without its credentials', schema: endpointSchema } } },
  }, async (req, reply) => {
    const b = bodyOf<z.infer<typeof addBody>>(req);
    return reply.status(201).send(await endpoints.add(b, AbortSignal.timeout(60_000)));
  });

  app.get<{ Params: EP }>('/v1/endpoints/:endpoint', {
    config: { permission: 'vm:read', doc: { summary: 'One endpoint and its last status', tags, response: { status: 200, description: 'the endpoint', schema: endpointSchema } } },
  }, async (req) => endpoints.show(req.params.endpoint));

  app.post<{ Params: EP }>('/v1/endpoints/:endpoint/test', {
    config: { permission: 'vm:read', doc: { summary: 'Connect afresh and read the endpoint\'s product, hosts and VM count', tags, response: { status: 200, description: 'the endpoint with its new status (a failure is in status.error)', schema: endpointSchema } } },
  }, async (req) => endpoints.test(req.params.endpoint, AbortSignal.timeout(60_000)));

  app.delete<{ Params: EP }>('/v1/endpoints/:endpoint', {
    config: { permission: 'endpoint:admin', doc: { summary: 'Forget an endpoint and its credentials (its VMs are not touched)', tags, response: { status: 204, description: 'removed' } } },
  }, async (req, reply) => {
    await endpoints.remove(req.params.endpoint);
    return reply.status(204).send();
  });

  app.get('/v1/inventory', {
    config: { permission: 'vm:read', doc: { summary: 'The VMs of every endpoint, this daemon\'s own as endpoint "local"', tags, query: inventoryQuery, response: { status: 200, description: 'the VMs; endpoints that did not answer are listed in errors', schema: inventorySchema } } },
  }, async (req) => {
    const q = queryOf<z.infer<typeof inventoryQuery>>(req);
    return endpoints.inventory({ ...(q.endpoint ? { endpoint: q.endpoint } : {}), fresh: q.fresh === 'true' });
  });

  app.get<{ Params: VP }>('/v1/endpoints/:endpoint/vms/:vm', {
    config: { permission: 'vm:read', doc: { summary: 'A VM of an endpoint, as its hypervisor describes it now', tags, response: { status: 200, description: 'the VM', schema: foreignVmSchema } } },
  }, async (req) => endpoints.vm(req.params.endpoint, req.params.vm, AbortSignal.timeout(60_000)));

  app.get<{ Params: VP }>('/v1/endpoints/:endpoint/vms/:vm/snapshots', {
    config: { permission: 'vm:read', doc: { summary: 'The VM\'s snapshots (parent links make the tree)', tags, response: { status: 200, description: 'the snapshots', schema: z.array(foreignSnapshotSchema) } } },
  }, async (req) => endpoints.snapshots(req.params.endpoint, req.params.vm, AbortSignal.timeout(60_000)));

  app.post<{ Params: VP }>('/v1/endpoints/:endpoint/vms/:vm/snapshots', {
    config: { permission: 'vm:snapshot', doc: { summary: 'Take a snapshot (memory: true keeps RAM)', tags, body: snapBody, query: asyncQuery, response: { status: 200, description: 'the VM\'s snapshots after it', schema: z.array(foreignSnapshotSchema) }, otherResponses: [ASYNC] } },
  }, async (req, reply) => {
    const { endpoint, vm } = req.params;
    const b = bodyOf<z.infer<typeof snapBody>>(req);
    return operate(req, reply, 'endpoint.snapshot', `${endpoint}/${vm}`, (signal, progress) => endpoints.snapshot(endpoint, vm, { name: b.name, memory: b.memory === true, ...(b.description ? { description: b.description } : {}) }, signal, progress));
  });

  app.post<{ Params: VP & { snap: string } }>('/v1/endpoints/:endpoint/vms/:vm/snapshots/:snap/revert', {
    config: { permission: 'vm:snapshot', doc: { summary: 'Revert the VM to a snapshot', tags, query: asyncQuery, response: { status: 200, description: 'the VM after it', schema: foreignVmSchema }, otherResponses: [ASYNC] } },
  }, async (req, reply) => {
    const { endpoint, vm, snap } = req.params;
    return operate(req, reply, 'endpoint.revert', `${endpoint}/${vm}`, (signal, progress) => endpoints.revert(endpoint, vm, snap, signal, progress));
  });

  app.delete<{ Params: VP & { snap: string } }>('/v1/endpoints/:endpoint/vms/:vm/snapshots/:snap', {
    config: { permission: 'vm:snapshot', doc: { summary: 'Delete a snapshot', tags, response: { status: 204, description: 'deleted' } } },
  }, async (req, reply) => {
    const { endpoint, vm, snap } = req.params;
    await ops.run('endpoint.snapshot-delete', `${endpoint}/${vm}`, actor(req), (ctx) => endpoints.removeSnapshot(endpoint, vm, snap, ctx.signal, ctx.progress));
    return reply.status(204).send();
  });

  app.post<{ Params: VP }>('/v1/endpoints/:endpoint/vms/:vm/migrate', {
    config: { permission: 'vm:migrate', doc: { summary: 'Move the VM to another host of its endpoint (live when it runs)', tags, body: migrateBody, query: asyncQuery, response: { status: 200, description: 'the VM on its new host', schema: foreignVmSchema }, otherResponses: [ASYNC] } },
  }, async (req, reply) => {
    const { endpoint, vm } = req.params;
    const b = bodyOf<z.infer<typeof migrateBody>>(req);
    return operate(req, reply, 'endpoint.migrate', `${endpoint}/${vm}`, (signal, progress) => endpoints.migrate(endpoint, vm, b.host, signal, progress));
  });

  app.post<{ Params: VP }>('/v1/endpoints/:endpoint/vms/:vm/reconfigure', {
    config: { permission: 'vm:write', doc: { summary: 'Change CPU count and memory of a stopped VM', tags, body: reconfigureBody, response: { status: 200, description: 'the VM after it', schema: foreignVmSchema } } },
  }, async (req) => {
    const { endpoint, vm } = req.params;
    const b = bodyOf<z.infer<typeof reconfigureBody>>(req);
    if (b.cpus === undefined && b.memory === undefined) fail('INVALID_BODY', 'give cpus, memory or both');
    const memoryBytes = b.memory === undefined ? undefined : typeof b.memory === 'number' ? b.memory * 1024 ** 2 : parseSize(b.memory);
    if (memoryBytes !== undefined && (!Number.isSafeInteger(memoryBytes) || memoryBytes < 16 * 1024 ** 2)) fail('INVALID_BODY', `memory ${JSON.stringify(b.memory)} is not a size of at least 16Mi ("2Gi", "512Mi", or a number of MiB)`);
    return ops.run('endpoint.reconfigure', `${endpoint}/${vm}`, actor(req), (ctx) => endpoints.reconfigure(endpoint, vm, { ...(b.cpus !== undefined ? { cpus: b.cpus } : {}), ...(memoryBytes !== undefined ? { memoryBytes } : {}) }, ctx.signal));
  });

  app.post<{ Params: VP }>('/v1/endpoints/:endpoint/vms/:vm/clone', {
    config: { permission: 'vm:write', doc: { summary: 'Clone the VM inside its endpoint', tags, body: cloneBody, query: asyncQuery, response: { status: 200, description: 'the clone', schema: foreignVmSchema }, otherResponses: [ASYNC] } },
  }, async (req, reply) => {
    const { endpoint, vm } = req.params;
    const b = bodyOf<z.infer<typeof cloneBody>>(req);
    return operate(req, reply, 'endpoint.clone', `${endpoint}/${vm}`, (signal, progress) => endpoints.clone(endpoint, vm, b.name, signal, progress));
  });

  app.post<{ Params: VP }>('/v1/endpoints/:endpoint/vms/:vm/import', {
    config: { permission: 'vm:write', doc: { summary: 'Bring a stopped VM of the endpoint here as a local QEMU VM (disks copied and converted to qcow2), then start it', tags, body: importBody, query: asyncQuery, response: { status: 200, description: 'the local VM and what did not map', schema: importSchema }, otherResponses: [ASYNC] } },
  }, async (req, reply) => {
    const { endpoint, vm } = req.params;
    const b = bodyOf<z.infer<typeof importBody>>(req);
    return operate(req, reply, 'endpoint.import', `${endpoint}/${vm}`, async (signal, progress): Promise<ImportView> => {
      const r = await endpoints.importVm(endpoint, vm, { ...(b.name ? { name: b.name } : {}), shutdown: b.shutdown === true, start: b.start !== false }, { signal, progress });
      return { ...r, vm: await presentVm(vms, r.vm) };
    });
  });

  app.post<{ Params: { name: string } }>('/v1/vms/:name/move', {
    config: { permission: 'vm:migrate', doc: { summary: 'Move a stopped local VM to another hypervisor\'s endpoint (its disks copied as qcow2); the local VM is removed unless keep', tags, body: moveBody, query: asyncQuery, response: { status: 200, description: 'the VM on the endpoint', schema: moveOutSchema }, otherResponses: [ASYNC] } },
  }, async (req, reply) => {
    const name = validateName(req.params.name, 'VM name');
    const b = bodyOf<z.infer<typeof moveBody>>(req);
    await vms.get(name); // 404 now rather than a failed operation later
    return operate(req, reply, 'vm.move', name, (signal, progress) => endpoints.moveOut(name, b.endpoint, { start: b.start === true, keep: b.keep === true }, { signal, progress }));
  });

  app.post<{ Params: VP & { action: string } }>('/v1/endpoints/:endpoint/vms/:vm/:action', {
    config: { permission: 'vm:operate', doc: { summary: `Run a power action on a VM of an endpoint: ${FOREIGN_ACTIONS.join(', ')}`, tags, query: asyncQuery, response: { status: 200, description: 'the VM after the action', schema: foreignVmSchema }, otherResponses: [ASYNC] } },
  }, async (req, reply) => {
    const { endpoint, vm, action } = req.params;
    if (!isForeignAction(action)) fail('ROUTE_NOT_FOUND', `unknown action ${action}; use one of ${FOREIGN_ACTIONS.join(', ')}`);
    return operate(req, reply, `endpoint.${action}`, `${endpoint}/${vm}`, (signal) => endpoints.act(endpoint, vm, action, signal));
  });
}
