/**
 * Moves and NICs on virtual networks (issue 18; docs/networks.md "Moves").
 *
 * Host to host: the target must have a network of each name the VM's NICs
 * use (refused before anything starts, naming the missing ones); it attaches
 * the NICs' taps before its incoming QEMU starts and removes them if the move
 * fails; the source releases its taps and rules when it drops its copy after
 * the commit. The MAC stays (it derives from the VM id, which moves along, or
 * is in the spec), and so does the address: the spec sent pins each NIC's
 * current address as its reservation on the target.
 *
 * On one host a second QEMU would need a second tap per NIC on the same
 * bridge with the same MAC while the first still runs: not built; refused.
 */
import { PolyvisorError } from '../shared/index.js';
import type { VmSpec } from '../spec/index.js';
import type { NicAllocation, VmRecord } from '../store/index.js';

const onNetworks = (spec: VmSpec) => spec.networks.filter((n) => n.type === 'network');

/** A live move on this host of a VM with network NICs is refused before it starts. */
export function refuseNetworkNics(rec: Pick<VmRecord, 'name' | 'state' | 'spec'>): void {
  if (rec.state !== 'running' && rec.state !== 'paused') return;
  const nics = onNetworks(rec.spec).map((n) => `${n.name} on ${String(n.network)}`);
  if (nics.length === 0) return;
  throw new PolyvisorError('MIGRATION_INCOMPATIBLE', `VM ${rec.name} has NICs on virtual networks (${nics.join(', ')}); a live move on this host would need a second tap for each while the first is open`, {
    details: [{ what: 'virtual network NICs on a move within one host', nics }],
    hint: 'Move it to another host (`polyvisor vm migrate NAME --to-peer PEER`): a target with networks of the same names takes the NICs over.',
  });
}

/** The spec a move sends: each network NIC without a fixed address gets the one it has here, so the guest keeps it. */
export function pinNicAddresses(spec: VmSpec, allocations: readonly NicAllocation[]): VmSpec {
  return {
    ...spec,
    networks: spec.networks.map((n) => {
      if (n.type !== 'network' || n.ip !== undefined) return n;
      const a = allocations.find((x) => x.nic === n.name && x.network === n.network);
      return a?.ip ? { ...n, ip: a.ip } : n;
    }),
  };
}

/** On the target, before anything is created: every network the NICs use exists here. */
export function refuseMissingNetworks(vm: string, spec: VmSpec, host: string, missing: readonly string[], canBuild: boolean): void {
  const nics = onNetworks(spec);
  if (nics.length === 0) return;
  if (!canBuild) {
    throw new PolyvisorError('MIGRATION_INCOMPATIBLE', `VM ${vm} has NICs on virtual networks, and ${host} cannot build virtual networks`, {
      details: [{ what: 'virtual networks', networks: [...new Set(nics.map((n) => String(n.network)))] }],
      hint: `Run the target daemon as root with ip, nft and dnsmasq installed (\`polyvisor doctor\` on ${host}), then retry.`,
    });
  }
  if (missing.length === 0) return;
  throw new PolyvisorError('MIGRATION_INCOMPATIBLE', `VM ${vm} cannot move to ${host}: it has no network ${missing.join(', ')} (used by NIC ${nics.filter((n) => missing.includes(String(n.network))).map((n) => n.name).join(', ')})`, {
    details: [{ what: 'virtual networks missing on the target', networks: [...missing] }],
    hint: `On ${host}, an admin creates ${missing.length > 1 ? 'them' : 'it'} first: ${missing.map((m) => `\`polyvisor network create ${m} --mode nat\``).join(', ')} (the same mode and subnet as on the source), then retry the move.`,
  });
}
