/** Checks a NetworkDef (every default filled in) and a NIC attachment before anything touches the host. Pure. */
import { PolyvisorError } from '../shared/index.js';
import type { HostRoute } from './host-routes.js';
import { cidrContains, cidrsOverlap, formatIp, isHostAddress, MAC_PATTERN, parseCidr, parseIp, type Cidr } from './ipv4.js';
import { IFNAME_PATTERN, IFNAMSIZ_MAX, NETWORK_NAME_MAX, NETWORK_NAME_PATTERN } from './names.js';
import type { FirewallRule, NetworkDef, NicAttachment } from './types.js';

const HOSTNAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const DOMAIN_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function bad(field: string, message: string): never {
  throw new PolyvisorError('NETWORK_INVALID', message, { details: { field } });
}

function ifname(field: string, value: string, what: string): void {
  if (value.length > IFNAMSIZ_MAX) bad(field, `${what} "${value}" has ${value.length} characters; Linux allows at most ${IFNAMSIZ_MAX}`);
  if (!IFNAME_PATTERN.test(value)) bad(field, `${what} "${value}" may hold only letters, digits, ".", "-" and "_", starting with a letter or digit`);
}

function addressIn(field: string, value: string, subnet: Cidr, subnetText: string): number {
  const ip = parseIp(value);
  if (ip === null) bad(field, `"${value}" is not an IPv4 address`);
  if (!isHostAddress(subnet, ip)) bad(field, `${value} is not a usable address of ${subnetText}`);
  return ip;
}

export function validateNetworkName(name: string): void {
  if (!NETWORK_NAME_PATTERN.test(name) || name.length > NETWORK_NAME_MAX) {
    bad('name', `network name "${name}" must be 1-${NETWORK_NAME_MAX} characters: lowercase letters, digits and "-", starting with a letter`);
  }
}

export function validateVlan(vlan: number | null, field = 'vlan'): void {
  if (vlan !== null && (!Number.isInteger(vlan) || vlan < 1 || vlan > 4094)) bad(field, `VLAN ${vlan} is outside 1-4094`);
}

function checkOverlap(def: NetworkDef, subnet: Cidr, others: readonly NetworkDef[], hostRoutes: readonly HostRoute[]): void {
  const otherBridges = new Set<string>();
  for (const o of others) {
    if (o.name === def.name) continue;
    otherBridges.add(o.bridge);
    if (o.bridge === def.bridge) bad('bridge', `bridge ${def.bridge} already belongs to network ${o.name}`);
    const c = o.subnet === null ? null : parseCidr(o.subnet);
    if (c && cidrsOverlap(c, subnet)) {
      throw new PolyvisorError('SUBNET_OVERLAP', `subnet ${def.subnet} overlaps network ${o.name} (${o.subnet})`, {
        details: { field: 'subnet', network: o.name, subnet: o.subnet },
      });
    }
  }
  for (const r of hostRoutes) {
    // Routes through this network's own bridge (it exists already) or another network's (checked above) are ours.
    if (r.dev !== null && (r.dev === def.bridge || otherBridges.has(r.dev))) continue;
    if (cidrsOverlap(r.cidr, subnet)) {
      throw new PolyvisorError('SUBNET_OVERLAP', `subnet ${def.subnet} overlaps the host route ${r.dst}${r.dev ? ` on ${r.dev}` : ''}`, {
        details: { field: 'subnet', route: r.dst, dev: r.dev },
      });
    }
  }
}

function checkAddressing(def: NetworkDef, others: readonly NetworkDef[], hostRoutes: readonly HostRoute[]): void {
  if (def.subnet === null) bad('subnet', `a ${def.mode} network needs a subnet`);
  const subnet = parseCidr(def.subnet);
  if (!subnet) {
    const loose = parseCidr(def.subnet, false);
    bad('subnet', loose
      ? `subnet ${def.subnet} has host bits set; did you mean ${formatIp(loose.network)}/${loose.prefix}?`
      : `"${def.subnet}" is not an IPv4 CIDR like 10.123.0.0/24`);
  }
  if (subnet.prefix < 8 || subnet.prefix > 29) bad('subnet', `subnet ${def.subnet}: the prefix must be between /8 and /29`);
  if (def.gateway === null) bad('gateway', `a ${def.mode} network needs a gateway address`);
  const gw = addressIn('gateway', def.gateway, subnet, def.subnet);
  if (def.dhcpRange) {
    const start = addressIn('dhcpRange.start', def.dhcpRange.start, subnet, def.subnet);
    const end = addressIn('dhcpRange.end', def.dhcpRange.end, subnet, def.subnet);
    if (start > end) bad('dhcpRange', `DHCP range ${def.dhcpRange.start}-${def.dhcpRange.end} ends before it starts`);
    if (gw >= start && gw <= end) bad('dhcpRange', `DHCP range ${def.dhcpRange.start}-${def.dhcpRange.end} contains the gateway ${def.gateway}`);
  }
  const macs = new Set<string>();
  const ips = new Set<number>();
  const names = new Set<string>();
  def.reservations.forEach((r, i) => {
    const f = `reservations.${i}`;
    if (!MAC_PATTERN.test(r.mac)) bad(`${f}.mac`, `"${r.mac}" is not a lowercase MAC like 52:54:00:12:34:56`);
    const ip = addressIn(`${f}.ip`, r.ip, subnet, def.subnet!);
    if (ip === gw) bad(`${f}.ip`, `${r.ip} is the gateway's address`);
    if (r.hostname !== null && !HOSTNAME_PATTERN.test(r.hostname)) bad(`${f}.hostname`, `"${r.hostname}" is not a valid host name`);
    if (macs.has(r.mac)) bad(`${f}.mac`, `MAC ${r.mac} is reserved twice`);
    if (ips.has(ip)) bad(`${f}.ip`, `address ${r.ip} is reserved twice`);
    const host = r.hostname?.toLowerCase();
    if (host !== undefined && names.has(host)) bad(`${f}.hostname`, `host name ${r.hostname} is reserved twice`);
    macs.add(r.mac);
    ips.add(ip);
    if (host !== undefined) names.add(host);
  });
  checkOverlap(def, subnet, others, hostRoutes);
}

/**
 * Throws NETWORK_INVALID (details.field names the field) or SUBNET_OVERLAP
 * (naming the other network or host route) at the first problem.
 * `others`: every other network on this host; `hostRoutes`: parseHostRoutes().
 */
export function validateNetworkDef(def: NetworkDef, others: readonly NetworkDef[], hostRoutes: readonly HostRoute[], o: { overlay?: boolean } = {}): void {
  validateNetworkName(def.name);
  if (!['nat', 'isolated', 'bridge'].includes(def.mode)) bad('mode', `mode "${String(def.mode)}" is not one of nat, isolated, bridge`);
  ifname('bridge', def.bridge, 'bridge name');
  if (def.uplink !== null) ifname('uplink', def.uplink, 'uplink interface');
  if (def.uplink !== null && def.uplink === def.bridge) bad('uplink', 'the uplink cannot be the network\'s own bridge');
  validateVlan(def.vlan);
  if (def.dnsDomain !== null && !DOMAIN_PATTERN.test(def.dnsDomain)) bad('dnsDomain', `"${def.dnsDomain}" is not a valid DNS domain`);
  if (def.mode === 'bridge') {
    // In a cluster (o.overlay) the bridge's VXLAN port joins the members' bridges: an uplink is then optional.
    if (def.uplink === null && !o.overlay) bad('uplink', 'a bridge network needs the host interface to enslave (uplink)');
    for (const f of ['subnet', 'gateway', 'dhcpRange'] as const) {
      if (def[f] !== null) bad(f, `a bridge network has no ${f}: the guests get their addresses from the uplink's LAN`);
    }
    if (def.reservations.length > 0) bad('reservations', 'a bridge network has no DHCP server of its own to hold reservations');
    return;
  }
  checkAddressing(def, others, hostRoutes);
}

export function validatePort(field: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) bad(field, `port ${port} is outside 1-65535`);
}

function validateRule(rule: FirewallRule, field: string): void {
  if (!['in', 'out'].includes(rule.direction)) bad(`${field}.direction`, `direction "${String(rule.direction)}" is not in or out`);
  if (!['accept', 'drop'].includes(rule.action)) bad(`${field}.action`, `action "${String(rule.action)}" is not accept or drop`);
  if (!['tcp', 'udp', 'icmp', 'any'].includes(rule.protocol)) bad(`${field}.protocol`, `protocol "${String(rule.protocol)}" is not tcp, udp, icmp or any`);
  if (rule.port !== null) {
    if (rule.protocol !== 'tcp' && rule.protocol !== 'udp') bad(`${field}.port`, 'a port needs protocol tcp or udp');
    if (typeof rule.port === 'number') validatePort(`${field}.port`, rule.port);
    else {
      validatePort(`${field}.port.from`, rule.port.from);
      validatePort(`${field}.port.to`, rule.port.to);
      if (rule.port.from > rule.port.to) bad(`${field}.port`, `port range ${rule.port.from}-${rule.port.to} ends before it starts`);
    }
  }
  if (rule.peer !== null && !parseCidr(rule.peer)) bad(`${field}.peer`, `"${rule.peer}" is not an IPv4 address or CIDR (without host bits)`);
}

/** Checks one NIC against the network it attaches to. Throws NETWORK_INVALID with details.field. */
export function validateNicAttachment(a: NicAttachment, def: NetworkDef): void {
  ifname('tap', a.tap, 'tap name');
  if (a.tap === def.bridge) bad('tap', 'the tap cannot have the bridge\'s name');
  if (!MAC_PATTERN.test(a.mac)) bad('mac', `"${a.mac}" is not a lowercase MAC like 52:54:00:12:34:56`);
  if (a.network !== def.name) throw new Error(`validateNicAttachment: NIC is on ${a.network}, not ${def.name}`);
  if (a.ip !== null) {
    const subnet = def.subnet === null ? null : parseCidr(def.subnet);
    if (!subnet) bad('ip', `network ${def.name} has no subnet to hold ${a.ip}`);
    const ip = addressIn('ip', a.ip, subnet, def.subnet!);
    if (def.gateway !== null && ip === parseIp(def.gateway)) bad('ip', `${a.ip} is the gateway's address`);
  }
  a.firewall?.rules.forEach((r, i) => validateRule(r, `firewall.rules.${i}`));
  const seen = new Set<string>();
  a.portForwards.forEach((f, i) => {
    validatePort(`portForwards.${i}.hostPort`, f.hostPort);
    validatePort(`portForwards.${i}.guestPort`, f.guestPort);
    if (f.protocol !== 'tcp' && f.protocol !== 'udp') bad(`portForwards.${i}.protocol`, `protocol "${String(f.protocol)}" is not tcp or udp`);
    const key = `${f.protocol}/${f.hostPort}`;
    if (seen.has(key)) bad(`portForwards.${i}.hostPort`, `host port ${key} is forwarded twice`);
    seen.add(key);
  });
  if (a.portForwards.length > 0 && (def.mode !== 'nat' || a.ip === null)) {
    bad('portForwards', 'port forwards need a nat network and the NIC\'s address');
  }
  if (a.bandwidth) {
    for (const k of ['inBytesPerS', 'outBytesPerS'] as const) {
      const v = a.bandwidth[k];
      if (v !== null && (!Number.isInteger(v) || v < 1000)) bad(`bandwidth.${k}`, `${k} ${v} must be a whole number of bytes per second, at least 1000`);
    }
  }
}

/** True when `ip` lies in `cidr` (both as text); false for bad text. */
export function subnetContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const n = parseIp(ip);
  return c !== null && n !== null && cidrContains(c, n);
}
