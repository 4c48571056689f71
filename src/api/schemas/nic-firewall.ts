/** Answer of /v1/vms/{name}/nics/{nic}/firewall (issue 18). */
import { z } from 'zod';
import type { NicFirewallView } from '../../spec/index.js';
import { describes } from './describes.js';

const port = z.number().int();
const rule = z.object({
  direction: z.enum(['in', 'out']).describe('in: to the guest; out: from the guest'),
  action: z.enum(['accept', 'drop']),
  protocol: z.enum(['tcp', 'udp', 'icmp', 'any']),
  port: z.union([port, z.object({ from: port, to: port })]).nullable().describe('tcp/udp: a port or an inclusive range; null: any'),
  peer: z.string().nullable().describe('the other end: an address or CIDR (source for in, destination for out); null: any'),
});
export const nicFirewallViewSchema = describes<NicFirewallView>()(z.object({
  vm: z.string(),
  nic: z.string().describe('the NIC\'s name in the VM\'s spec'),
  network: z.string(),
  firewall: z.object({
    defaultIn: z.enum(['accept', 'drop']).describe('what happens to inbound traffic no rule matches'),
    defaultOut: z.enum(['accept', 'drop']),
    rules: z.array(rule).describe('applied in order; the first match decides'),
  }).nullable().describe('null: no per-NIC firewall'),
  live: z.boolean().describe('true: the VM runs and its nftables rules hold this firewall now'),
}).meta({ id: 'NicFirewall', description: 'a VM NIC\'s firewall' }));
