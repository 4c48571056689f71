/**
 * A VM's NICs on virtual networks as the host plumbing sees them: the spec's
 * NIC plus its stored allocation (address, tap) becomes a NicAttachment; the
 * stored network plus the allocations on it becomes a NetworkDef. Pure.
 */
import { canHotplugNics, stableMac, type VmInstance } from '../drivers/index.js';
import type { NetworkDef, NicAttachment } from '../network/index.js';
import type { NetworkSpec, VmSpec } from '../spec/index.js';
import type { NetworkRecord, NicAllocation, VmRecord } from '../store/index.js';

export type NetworkNic = Extract<NetworkSpec, { type: 'network' }> & { network: string };

/** The spec's NICs that sit on a virtual network. */
export function networkNics(spec: VmSpec): NetworkNic[] {
  return spec.networks.filter((n): n is NetworkNic => n.type === 'network' && n.network !== undefined);
}

/** The MAC a NIC has: its own, or the stable one of its VM id and name (as the QEMU argv gives it). */
export function nicMac(rec: Pick<VmRecord, 'id'>, n: Pick<NetworkSpec, 'name' | 'mac'>): string {
  return n.mac ?? stableMac(rec.id, n.name);
}

export function toNetworkDef(net: NetworkRecord, allocations: readonly NicAllocation[]): NetworkDef {
  return {
    name: net.name, mode: net.mode, bridge: net.bridge, subnet: net.subnet, gateway: net.gateway, dhcpRange: net.dhcpRange,
    dnsDomain: net.dnsDomain, uplink: net.uplink, vlan: net.vlan, vni: net.vni ?? null,
    reservations: allocations
      .filter((a) => a.network === net.name && a.ip !== null)
      .map((a) => ({ mac: a.mac, ip: a.ip!, hostname: a.vm })),
  };
}

export function toAttachment(rec: Pick<VmRecord, 'name'>, n: NetworkNic, a: NicAllocation): NicAttachment {
  return {
    vm: rec.name, nic: n.name, network: a.network, mac: a.mac, tap: a.tap, ip: a.ip,
    antiSpoof: n.antiSpoof, firewall: n.firewall ?? null, linkUp: n.linkUp,
    portForwards: n.portForwards.map((f) => ({ protocol: f.protocol, hostPort: f.hostPort, guestPort: f.guestPort })),
    bandwidth: n.bandwidth ?? null,
  };
}

/** After QEMU started: the NICs whose spec says linkUp false get their link down (the argv cannot say it). */
export async function applyLinkStates(spec: VmSpec, inst: VmInstance, signal: AbortSignal): Promise<void> {
  const down = networkNics(spec).filter((n) => !n.linkUp);
  if (down.length === 0 || !canHotplugNics(inst)) return;
  for (const n of down) await inst.setNicLink(n.name, false, signal);
}
