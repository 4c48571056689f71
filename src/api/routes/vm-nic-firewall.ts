/**
 * /v1/vms/:name/nics/:nic/firewall: a NIC's firewall (issue 18). Reading it
 * is vm:read; replacing it is vm:operate (the operator role, as Proxmox lets
 * a VM's administrator edit its firewall) and takes effect at once on a
 * running VM, without a restart.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { NicFirewallService } from '../../lifecycle/index.js';
import { nicFirewallSchema, type NicFirewallInput, type NicFirewallView } from '../../spec/index.js';
import { nicFirewallViewSchema } from '../schemas/index.js';
import { bodyOf } from '../validate.js';

const putBody = z.object({
  firewall: nicFirewallSchema.nullable().describe('the whole firewall: rules in order, then the default policies; null removes it'),
}).strict();
const tags = ['networks'];
type Params = { Params: { name: string; nic: string } };

export function vmNicFirewallRoutes(app: FastifyInstance, firewalls: NicFirewallService): void {
  app.get<Params>('/v1/vms/:name/nics/:nic/firewall', {
    config: { permission: 'vm:read', doc: { summary: 'The firewall of a VM\'s NIC on a virtual network', tags, response: { status: 200, description: 'the firewall', schema: nicFirewallViewSchema } } },
  }, async (req): Promise<NicFirewallView> => firewalls.get(req.params.name, req.params.nic));

  app.put<Params>('/v1/vms/:name/nics/:nic/firewall', {
    config: { permission: 'vm:operate', doc: { summary: 'Replace the firewall of a VM\'s NIC; a running VM gets the new rules at once (one nftables transaction)', tags, body: putBody, response: { status: 200, description: 'the firewall as saved', schema: nicFirewallViewSchema } } },
  }, async (req): Promise<NicFirewallView> => {
    const b = bodyOf<{ firewall: NicFirewallInput | null }>(req);
    return firewalls.set(req.params.name, req.params.nic, b.firewall);
  });
}
