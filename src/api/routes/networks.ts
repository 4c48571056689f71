/**
 * /v1/networks: virtual networks (issue 18). Like Proxmox, where network
 * configuration is the administrator's, creating and removing networks needs
 * `network:admin` (the admin role); every role may read them.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { NetworkService } from '../../lifecycle/index.js';
import { NETWORK_MODES, networkName, type LeaseView, type NetworkCreateRequest, type NetworkDetailView, type NetworkView } from '../../spec/index.js';
import { bodyOf } from '../validate.js';
import { leaseSchema, networkDetailSchema, networkSchema } from '../schemas/index.js';

const createBody = z.object({
  name: networkName,
  mode: z.enum(NETWORK_MODES).describe('nat: guests reach out through the host (masquerade); isolated: guests and host only; bridge: guests on the uplink\'s LAN'),
  subnet: z.string().optional().describe('IPv4 CIDR (nat, isolated); default: a free private /24 that collides with no host route'),
  dhcpRange: z.object({ start: z.string(), end: z.string() }).strict().optional().describe('default: the upper half of the subnet'),
  dnsDomain: z.string().optional().describe('guests resolve as NAME.DOMAIN; default: the network\'s name'),
  uplink: z.string().optional().describe('bridge: the host interface to enslave; nat: the interface traffic leaves by'),
  vlan: z.number().int().min(1).max(4094).optional().describe('the guests\' ports are untagged members of this VLAN'),
}).strict();
const tags = ['networks'];
type Params = { Params: { name: string } };

export function networkRoutes(app: FastifyInstance, networks: NetworkService): void {
  app.get('/v1/networks', {
    config: { permission: 'network:read', doc: { summary: 'The virtual networks of this host', tags, response: { status: 200, description: 'the networks', schema: z.array(networkSchema) } } },
  }, async (): Promise<NetworkView[]> => networks.list());

  app.post('/v1/networks', {
    config: { permission: 'network:admin', doc: { summary: 'Create a virtual network (bridge, DHCP and DNS, NAT rules) and build it on the host', tags, body: createBody, response: { status: 201, description: 'the network', schema: networkSchema } } },
  }, async (req, reply) => reply.status(201).send(await networks.create(bodyOf<NetworkCreateRequest>(req))));

  app.get<Params>('/v1/networks/:name', {
    config: { permission: 'network:read', doc: { summary: 'A network with its NICs and current leases', tags, response: { status: 200, description: 'the network', schema: networkDetailSchema } } },
  }, async (req): Promise<NetworkDetailView> => networks.show(req.params.name));

  app.get<Params>('/v1/networks/:name/leases', {
    config: { permission: 'network:read', doc: { summary: 'The DHCP leases of a network', tags, response: { status: 200, description: 'the leases', schema: z.array(leaseSchema) } } },
  }, async (req): Promise<LeaseView[]> => networks.leases(req.params.name));

  app.delete<Params>('/v1/networks/:name', {
    config: { permission: 'network:admin', doc: { summary: 'Remove a network and everything of it on the host; refused while VMs use it', tags, response: { status: 204, description: 'removed' } } },
  }, async (req, reply) => {
    await networks.remove(req.params.name);
    return reply.status(204).send();
  });
}
