/** Answers of /v1/networks (issue 18). */
import { z } from 'zod';
import { NETWORK_MODES, type LeaseView, type NetworkDetailView, type NetworkView } from '../../spec/index.js';
import { describes } from './describes.js';

const nic = z.object({
  vm: z.string(), nic: z.string().describe('the NIC\'s name in the VM\'s spec'), mac: z.string(),
  ip: z.string().nullable().describe('its reserved address; null on bridge networks'), tap: z.string().describe('the host\'s tap device'),
});
const fields = {
  name: z.string(),
  mode: z.enum(NETWORK_MODES),
  bridge: z.string().describe('the Linux bridge this network owns'),
  subnet: z.string().nullable().describe('IPv4 CIDR (nat, isolated); null in bridge mode'),
  gateway: z.string().nullable().describe('the host\'s address on the bridge: gateway, DNS and DHCP server'),
  dhcpRange: z.object({ start: z.string(), end: z.string() }).nullable().describe('the dynamic pool; reservations sit below it'),
  dnsDomain: z.string().nullable(),
  uplink: z.string().nullable(),
  vlan: z.number().int().nullable(),
  vni: z.number().int().nullable().optional().describe('the VXLAN id of a network spanning cluster hosts (cluster store only)'),
  createdAt: z.string().describe('ISO 8601 time'),
  nics: z.array(nic).describe('the VM NICs with an address and tap on this network'),
};
export const leaseSchema = describes<LeaseView>()(z.object({
  mac: z.string(), ip: z.string(), hostname: z.string().nullable(), expiresAt: z.string().nullable().describe('ISO 8601 time; null: infinite'),
}).meta({ id: 'Lease', description: 'a DHCP lease handed out by the network\'s dnsmasq' }));
export const networkSchema = describes<NetworkView>()(z.object(fields).meta({ id: 'Network', description: 'a virtual network' }));
export const networkDetailSchema = describes<NetworkDetailView>()(z.object({ ...fields, leases: z.array(leaseSchema) }).meta({ id: 'NetworkDetail', description: 'a virtual network with its current leases' }));
