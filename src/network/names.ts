/**
 * Interface names Polyvisor builds and owns. Linux allows 15 characters
 * (IFNAMSIZ 16 with the NUL); every link Polyvisor creates also carries an
 * ifalias marking it as its own (see alias.ts), so a user's interface with a
 * similar name is never touched.
 */
import { createHash } from 'node:crypto';

export const IFNAMSIZ_MAX = 15;
export const NETWORK_NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
export const NETWORK_NAME_MAX = 12;
/** Any Linux interface name we accept from a user (uplinks) or build. */
export const IFNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$/;
export const BRIDGE_PREFIX = 'pvbr-';
export const TAP_PREFIX = 'pvt-';

const shortHash = (s: string, n: number): string => createHash('sha256').update(s).digest('hex').slice(0, n);

/** pvbr-NAME, or pvbr- + the name's first 6 characters + 4 hex of its hash when NAME is longer than 10. */
export function bridgeNameFor(network: string): string {
  const full = `${BRIDGE_PREFIX}${network}`;
  if (full.length <= IFNAMSIZ_MAX) return full;
  return `${BRIDGE_PREFIX}${network.slice(0, 6)}${shortHash(network, 4)}`;
}

/** A stable tap name for a VM's NIC: pvt- + 11 hex of the hash of "VM/NIC" (unique per host in practice). */
export function tapNameFor(vm: string, nic: string): string {
  return `${TAP_PREFIX}${shortHash(`${vm}/${nic}`, IFNAMSIZ_MAX - TAP_PREFIX.length)}`;
}

/**
 * The MAC of a NAT or isolated network's bridge (its gateway): locally
 * administered, stable for the network's name and subnet. Two hosts with the
 * same network give their gateway the same MAC, so a guest moved live between
 * them keeps reaching it without waiting for its ARP entry to go stale.
 */
export function gatewayMacFor(network: string, subnet: string): string {
  const h = shortHash(`polyvisor-gateway/${network}/${subnet}`, 10);
  return ['02', ...[0, 2, 4, 6, 8].map((i) => h.slice(i, i + 2))].join(':');
}
