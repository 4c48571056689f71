/**
 * The NICs of a VM as `vm show` lists them, with the addresses seen for each:
 * dnsmasq's leases (matched by MAC) and the guest agent's interfaces (matched
 * by MAC), each address once per source. Pure.
 */
import { stableMac } from '../drivers/index.js';
import type { GuestInterfaceInfo, LeaseView, NicAddressSource, VmNicView } from '../spec/index.js';
import type { NicAllocation, VmRecord } from '../store/index.js';

export interface NicSightings {
  /** The leases of each network the VM's NICs are on. */
  leases: ReadonlyMap<string, readonly LeaseView[]>;
  /** The guest agent's interfaces (empty when it did not answer). */
  agent: readonly GuestInterfaceInfo[];
  /** The VM's taps are attached (it runs). */
  attached: boolean;
}

export function nicViews(rec: Pick<VmRecord, 'id' | 'spec'>, allocs: readonly NicAllocation[], seen: NicSightings): VmNicView[] {
  return rec.spec.networks.map((n) => {
    const mac = (n.mac ?? stableMac(rec.id, n.name)).toLowerCase();
    const alloc = n.type === 'network' ? allocs.find((a) => a.nic === n.name && a.network === n.network) : undefined;
    const addresses: VmNicView['addresses'] = [];
    const add = (address: string, source: NicAddressSource): void => {
      if (!addresses.some((x) => x.address === address && x.source === source)) addresses.push({ address, source });
    };
    if (n.type === 'network') for (const l of seen.leases.get(n.network!) ?? []) if (l.mac.toLowerCase() === mac) add(l.ip, 'lease');
    for (const i of seen.agent) {
      if (i.mac?.toLowerCase() !== mac) continue;
      // Link-local IPv6 addresses say nothing an operator can use.
      for (const a of i.addresses) if (!(a.family === 'ipv6' && /^fe80:/i.test(a.address))) add(a.address, 'agent');
    }
    return {
      name: n.name,
      type: n.type,
      network: n.type === 'network' ? n.network! : null,
      mac,
      model: n.model,
      linkUp: n.type === 'network' ? n.linkUp : true,
      tap: seen.attached && alloc ? alloc.tap : null,
      reservedIp: alloc?.ip ?? null,
      addresses,
    };
  });
}
