/**
 * The parts of a VM NIC that only a NIC on a virtual network has (issue 18):
 * the network's name, a static address, a per-NIC firewall, anti-spoofing,
 * link state and bandwidth limits. Pure schemas.
 */
import { z } from 'zod';

/** A network's name: 1-12 characters (the bridge and tap names built from it must fit Linux's 15). */
export const NETWORK_NAME_PATTERN = /^[a-z][a-z0-9-]{0,11}$/;
export const NETWORK_NAME_RULE = 'a network name: 1-12 characters, lowercase letters, digits and "-", starting with a letter';
export const networkName = z.string().regex(NETWORK_NAME_PATTERN, NETWORK_NAME_RULE);

const port = z.number().int().min(1).max(65535);
const cidr = z.union([z.ipv4(), z.cidrv4()]);

export const firewallRuleSchema = z
  .object({
    direction: z.enum(['in', 'out']).describe('in: to the guest; out: from the guest'),
    action: z.enum(['accept', 'drop']),
    protocol: z.enum(['tcp', 'udp', 'icmp', 'any']).default('any'),
    port: z.union([port, z.object({ from: port, to: port }).strict()]).nullable().default(null).describe('tcp/udp only: a port or an inclusive range'),
    peer: cidr.nullable().default(null).describe('the other end: an address or CIDR (null: any)'),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.port !== null && r.protocol !== 'tcp' && r.protocol !== 'udp') ctx.addIssue({ code: 'custom', path: ['port'], message: 'a port needs protocol tcp or udp' });
    if (r.port !== null && typeof r.port === 'object' && r.port.from > r.port.to) ctx.addIssue({ code: 'custom', path: ['port'], message: 'port range: from must not exceed to' });
  });

export const nicFirewallSchema = z
  .object({
    defaultIn: z.enum(['accept', 'drop']).default('accept').describe('what happens to inbound traffic no rule matches'),
    defaultOut: z.enum(['accept', 'drop']).default('accept'),
    rules: z.array(firewallRuleSchema).max(256).default([]),
  })
  .strict();

const rate = z.number().int().min(1024).max(1e11).nullable().default(null);
export const bandwidthSchema = z
  .object({ inBytesPerS: rate.describe('to the guest, bytes/s (null: unlimited)'), outBytesPerS: rate.describe('from the guest, bytes/s (null: unlimited)') })
  .strict();
