/**
 * An in-memory HostNetworks for tests that need no real plumbing: it records
 * every call, keeps what a host would have (networks, taps) and answers
 * leases from the networks' DHCP reservations. `failOn` makes one method throw.
 */
import type { HostNetworks, Lease, NetworkDef, NicAttachment } from '../../src/network/index.js';

export type HostNetworksCall =
  | { op: 'ensure'; network: string }
  | { op: 'remove'; network: string }
  | { op: 'attach'; vm: string; nic: string; tap: string }
  | { op: 'detach'; vm: string; nic: string }
  | { op: 'reconcile'; networks: string[]; nics: string[] };

export class MemHostNetworks implements HostNetworks {
  readonly calls: HostNetworksCall[] = [];
  readonly networks = new Map<string, NetworkDef>();
  readonly taps = new Map<string, NicAttachment>();
  /** The next call of this method throws (once). */
  failOn: { op: HostNetworksCall['op']; network?: string; nic?: string } | null = null;

  private maybeFail(op: HostNetworksCall['op'], network?: string, nic?: string): void {
    const f = this.failOn;
    if (!f || f.op !== op || (f.network !== undefined && f.network !== network) || (f.nic !== undefined && f.nic !== nic)) return;
    this.failOn = null;
    throw new Error(`mem-networks: ${op} failed (injected)`);
  }

  async ensure(def: NetworkDef): Promise<void> {
    this.calls.push({ op: 'ensure', network: def.name });
    this.maybeFail('ensure', def.name);
    this.networks.set(def.name, structuredClone(def));
  }

  async remove(name: string): Promise<void> {
    this.calls.push({ op: 'remove', network: name });
    this.maybeFail('remove', name);
    this.networks.delete(name);
    for (const [k, a] of this.taps) if (a.network === name) this.taps.delete(k);
  }

  async attach(a: NicAttachment): Promise<void> {
    this.calls.push({ op: 'attach', vm: a.vm, nic: a.nic, tap: a.tap });
    this.maybeFail('attach', a.network, a.nic);
    if (!this.networks.has(a.network)) throw new Error(`mem-networks: attach to missing network ${a.network}`);
    this.taps.set(`${a.vm}/${a.nic}`, structuredClone(a));
  }

  async detach(vm: string, nic: string): Promise<void> {
    this.calls.push({ op: 'detach', vm, nic });
    this.maybeFail('detach', undefined, nic);
    this.taps.delete(`${vm}/${nic}`);
  }

  async leases(network: string): Promise<Lease[]> {
    const def = this.networks.get(network);
    return (def?.reservations ?? []).map((r) => ({ mac: r.mac, ip: r.ip, hostname: r.hostname, expiresAt: null }));
  }

  async reconcile(defs: NetworkDef[], nics: NicAttachment[]): Promise<void> {
    this.calls.push({ op: 'reconcile', networks: defs.map((d) => d.name), nics: nics.map((n) => `${n.vm}/${n.nic}`) });
    this.networks.clear();
    for (const d of defs) this.networks.set(d.name, structuredClone(d));
    this.taps.clear();
    for (const n of nics) this.taps.set(`${n.vm}/${n.nic}`, structuredClone(n));
  }
}
