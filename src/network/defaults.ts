/** Defaults for a new network: a free subnet, the gateway, the DHCP pool, the bridge and the DNS domain. Pure. */
import { PolyvisorError } from '../shared/index.js';
import type { HostRoute } from './host-routes.js';
import { cidrsOverlap, formatCidr, formatIp, isHostAddress, parseCidr, parseIp, type Cidr } from './ipv4.js';
import { bridgeNameFor } from './names.js';
import type { NetworkDef, NetworkMode } from './types.js';

/**
 * The first 10.123.X.0/24 (X = 0…255), then 172.30.X.0/24 and 192.168.X.0/24
 * (X from 123), that overlaps neither a taken subnet nor a host route (the
 * default route aside), like libvirt's 192.168.122.0/24 default.
 */
export function chooseSubnet(taken: readonly string[], hostRoutes: readonly HostRoute[]): string {
  const busy: Cidr[] = [
    ...taken.map((t) => parseCidr(t, false)).filter((c): c is Cidr => c !== null),
    ...hostRoutes.map((r) => r.cidr).filter((c) => c.prefix > 0),
  ];
  const candidates: string[] = [];
  for (let x = 0; x < 256; x++) candidates.push(`10.123.${x}.0/24`);
  for (let x = 0; x < 256; x++) candidates.push(`172.30.${x}.0/24`);
  for (let x = 123; x < 256; x++) candidates.push(`192.168.${x}.0/24`);
  for (const text of candidates) {
    const c = parseCidr(text)!;
    if (!busy.some((b) => cidrsOverlap(b, c))) return text;
  }
  throw new PolyvisorError('NO_FREE_SUBNET', 'no free private /24 subnet: every candidate overlaps a network or a host route');
}

/**
 * The address plan of a subnet: the gateway is the first host address; the
 * upper half of the subnet is the dynamic DHCP pool; the lower half (after the
 * gateway) is where allocateAddress() picks the VMs' reserved addresses, so a
 * reservation never collides with a dynamic lease.
 */
export function addressPlan(subnet: string): { gateway: string; dhcpRange: { start: string; end: string } } {
  const c = parseCidr(subnet);
  if (!c) throw new PolyvisorError('NETWORK_INVALID', `"${subnet}" is not an IPv4 CIDR like 10.123.0.0/24`, { details: { field: 'subnet' } });
  const size = c.broadcast - c.network + 1;
  return {
    gateway: formatIp(c.network + 1),
    dhcpRange: { start: formatIp(c.network + size / 2), end: formatIp(c.broadcast - 1) },
  };
}

export interface DefaultsContext {
  /** Subnets of the host's other networks. */
  taken?: readonly string[];
  hostRoutes?: readonly HostRoute[];
}

/** A complete NetworkDef from what the user gave; what they left out is filled in. */
export function defaultsFor(
  name: string,
  mode: NetworkMode,
  given: Partial<Omit<NetworkDef, 'name' | 'mode'>> = {},
  ctx: DefaultsContext = {},
): NetworkDef {
  const base = {
    name,
    mode,
    bridge: given.bridge ?? bridgeNameFor(name),
    uplink: given.uplink ?? null,
    vlan: given.vlan ?? null,
    reservations: given.reservations ?? [],
  };
  if (mode === 'bridge') return { ...base, subnet: null, gateway: null, dhcpRange: null, dnsDomain: given.dnsDomain ?? null };
  const subnet = given.subnet ?? chooseSubnet(ctx.taken ?? [], ctx.hostRoutes ?? []);
  const plan = addressPlan(subnet);
  return {
    ...base,
    subnet,
    gateway: given.gateway ?? plan.gateway,
    dhcpRange: given.dhcpRange === undefined ? plan.dhcpRange : given.dhcpRange,
    dnsDomain: given.dnsDomain ?? name,
  };
}

/**
 * The lowest usable address of the network that is not the gateway, not in
 * the DHCP pool and not in `used` (other reservations): a VM NIC's stable
 * address. Throws NETWORK_INVALID when the subnet is full.
 */
export function allocateAddress(def: NetworkDef, used: readonly string[]): string {
  const c = def.subnet === null ? null : parseCidr(def.subnet);
  if (!c) throw new PolyvisorError('NETWORK_INVALID', `network ${def.name} has no subnet to allocate from`, { details: { field: 'subnet' } });
  const taken = new Set<number>(used.map(parseIp).filter((n): n is number => n !== null));
  for (const r of def.reservations) taken.add(parseIp(r.ip) ?? -1);
  if (def.gateway !== null) taken.add(parseIp(def.gateway) ?? -1);
  const lo = def.dhcpRange ? parseIp(def.dhcpRange.start) ?? -1 : -1;
  const hi = def.dhcpRange ? parseIp(def.dhcpRange.end) ?? -1 : -1;
  for (let ip = c.network + 1; ip < c.broadcast; ip++) {
    if (!isHostAddress(c, ip) || taken.has(ip) || (ip >= lo && ip <= hi)) continue;
    return formatIp(ip);
  }
  throw new PolyvisorError('NETWORK_INVALID', `network ${def.name} (${formatCidr(c)}) has no free address outside its DHCP pool`, {
    details: { field: 'subnet' },
  });
}
