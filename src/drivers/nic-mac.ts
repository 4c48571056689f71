/**
 * A NIC's MAC address when the spec gives none: stable for the VM's id and the
 * NIC's name, so the guest sees the same address on every start, after a move
 * and in its cloud-init network-config. Driver-neutral (every driver that
 * starts a VM from a Polyvisor spec uses it).
 */
import { createHash } from 'node:crypto';

/** A stable locally administered MAC (52:54:00:xx:xx:xx) from the VM id and NIC name. */
export function stableMac(vmId: string, netName: string): string {
  const b = createHash('sha256').update(`${vmId}/${netName}`).digest();
  return ['52', '54', '00', ...[0, 1, 2].map((i) => b[i]!.toString(16).padStart(2, '0'))].join(':');
}

/** The MAC each of the spec's NICs gets: its own, or the stable one. */
export function nicMacs(vmId: string, networks: ReadonlyArray<{ name: string; mac?: string | undefined }>): string[] {
  return networks.map((n) => n.mac ?? stableMac(vmId, n.name));
}
