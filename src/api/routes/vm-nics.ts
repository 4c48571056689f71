/**
 * /v1/vms/:name/nics (issue 18): a VM's NICs with their addresses; add one on
 * a virtual network and remove one (hot-plugged when the VM runs), set the
 * link state its guest sees. Operators may (like attaching a disk); the
 * networks themselves stay the admin's.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { NicAddRequest, NicService } from '../../lifecycle/index.js';
import { NIC_MODELS, networkName } from '../../spec/index.js';
import { bodyOf } from '../validate.js';
import { nicChangeSchema, vmNicSchema } from '../schemas/index.js';

const addBody = z.object({
  network: networkName.describe('the virtual network'),
  name: z.string().optional().describe('the NIC\'s name in the spec (default: the first free of net0, net1…)'),
  model: z.enum(NIC_MODELS).optional().describe('default virtio'),
  mac: z.string().optional().describe('default: a stable MAC from the VM id and NIC name'),
  ip: z.string().optional().describe('a static address reservation on the network (default: one from the DHCP range)'),
  linkUp: z.boolean().optional().describe('the link state the guest sees at first (default true)'),
}).strict();
const patchBody = z.object({ linkUp: z.boolean().describe('the link state the guest sees') }).strict();
const tags = ['vms', 'networks'];
type Params = { Params: { name: string } };
type NicParams = { Params: { name: string; nic: string } };

export function vmNicRoutes(app: FastifyInstance, nics: NicService): void {
  app.get<Params>('/v1/vms/:name/nics', {
    config: { permission: 'vm:read', doc: { summary: 'The NICs of a VM with their addresses (dnsmasq leases, the guest agent)', tags, response: { status: 200, description: 'the NICs', schema: z.array(vmNicSchema) } } },
  }, async (req) => nics.list(req.params.name));

  app.post<Params>('/v1/vms/:name/nics', {
    config: { permission: 'vm:write', doc: { summary: 'Add a NIC on a virtual network (hot-plugged when the VM runs; the spec changes only once it is in)', tags, body: addBody, response: { status: 201, description: 'the NIC', schema: nicChangeSchema } } },
  }, async (req, reply) => reply.status(201).send(await nics.add(req.params.name, bodyOf<NicAddRequest>(req))));

  app.patch<NicParams>('/v1/vms/:name/nics/:nic', {
    config: { permission: 'vm:operate', doc: { summary: 'Set the link state a NIC\'s guest sees (QMP set_link when it runs; kept in the spec)', tags, body: patchBody, response: { status: 200, description: 'the NIC', schema: nicChangeSchema } } },
  }, async (req) => nics.setLink(req.params.name, req.params.nic, bodyOf<z.infer<typeof patchBody>>(req).linkUp));

  app.delete<NicParams>('/v1/vms/:name/nics/:nic', {
    config: { permission: 'vm:write', doc: { summary: 'Remove a NIC (unplugged when the VM runs); its tap, rules and address go', tags, response: { status: 204, description: 'removed' } } },
  }, async (req, reply) => {
    await nics.remove(req.params.name, req.params.nic);
    return reply.status(204).send();
  });
}
