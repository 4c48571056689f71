/**
 * Virtual networks as objects (issue 18): create, list, show, remove, the
 * `default` NAT network, reconcile at daemon start, and the NICs of VMs on
 * them (address and tap allocation, attach before QEMU starts, detach after it
 * ends). The host plumbing is the HostNetworks the daemon gives (null: this
 * daemon cannot build networks). Every network change runs on one queue.
 */
import { fail, type Logger } from '../shared/index.js';
import {
  guestMtuFor, allocateAddress,
  defaultsFor, requireVlanSupport, tapNameFor, validateNetworkDef, validateNicAttachment,
  type HostNetworks, type HostRoute, type NetworkDef, type NicAttachment, type VlanSupport,
} from '../network/index.js';
import type { LeaseView, NetworkCreateRequest, NetworkDetailView, NetworkView, VmSpec } from '../spec/index.js';
import type { NetworkRecord, NetworkStore, NicAllocation, VmRecord } from '../store/index.js';
import { KeyedQueue } from './job-queue.js';
import { networkNics, nicMac, toAttachment, toNetworkDef, type NetworkNic } from './nic-attachments.js';

export interface NetworkServiceOptions {
  store: NetworkStore;
  /** Every VM of this host (to name the users of a network, and to reconcile). */
  vms: () => Promise<VmRecord[]>;
  /** Every VM of the cluster, when the store spans hosts: a network is in use if any member's VM has a NIC on it. */
  allVms?: () => Promise<VmRecord[]>;
  /** The host plumbing; null when this daemon cannot build networks (not root, or ip/nft/dnsmasq missing). */
  host: HostNetworks | null;
  /** The host's routes (`ip -j route`), so a new subnet collides with none. */
  hostRoutes?: () => Promise<HostRoute[]>;
  /**
   * The uid and gid the VM's QEMU runs as, when it is not root (qemuUser:
   * per-vm): its taps are created owned by them, so the unprivileged QEMU can
   * open them and no other VM's can.
   */
  tapOwner?: (vm: Pick<VmRecord, 'id' | 'name'>) => Promise<{ uid: number; gid: number }>;
  logger: Logger;
}

export const DEFAULT_NETWORK = 'default';
const ACTIVE = new Set(['starting', 'running', 'paused', 'stopping', 'migrating']);

export class NetworkService {
  private readonly queue = new KeyedQueue();
  private readonly log: Logger;

  constructor(private readonly o: NetworkServiceOptions) {
    this.log = o.logger.child({ component: 'networks' });
  }

  /** Whether this daemon can build networks. */
  get available(): boolean {
    return this.o.host !== null;
  }

  /** The kernel's VLAN support as the plumbing probed it (once); null when this daemon builds no networks. */
  async vlanSupport(): Promise<VlanSupport | null> {
    return (await this.o.host?.vlanSupport?.()) ?? null;
  }

  async create(req: NetworkCreateRequest): Promise<NetworkView> {
    const host = this.requireHost();
    return this.serial(async () => {
      if (await this.o.store.getNetwork(req.name)) fail('NETWORK_EXISTS', `a network named ${req.name} already exists`);
      const others = await this.defs();
      const routes = (await this.o.hostRoutes?.()) ?? [];
      const def = defaultsFor(req.name, req.mode, {
        ...(req.subnet !== undefined ? { subnet: req.subnet } : {}),
        ...(req.dhcpRange !== undefined ? { dhcpRange: req.dhcpRange } : {}),
        ...(req.dnsDomain !== undefined ? { dnsDomain: req.dnsDomain } : {}),
        ...(req.uplink !== undefined ? { uplink: req.uplink } : {}),
        ...(req.vlan !== undefined ? { vlan: req.vlan } : {}),
      }, { taken: others.map((d) => d.subnet).filter((s): s is string => s !== null), hostRoutes: routes });
      validateNetworkDef(def, others, routes, { overlay: this.o.store.spansHosts === true });
      // A VLAN the kernel cannot carry is refused here, before the record or any link exists.
      if (def.vlan !== null && host.vlanSupport) requireVlanSupport(def, await host.vlanSupport());
      const { reservations: _r, ...config } = def;
      const rec = await this.o.store.createNetwork(config);
      def.vni = rec.vni ?? null; // a cluster store chose the network's VXLAN id
      try {
        await host.ensure(def);
      } catch (err) {
        // Nothing half-created: the host's leftovers and the record go.
        await host.remove(def.name).catch((e: unknown) => this.log.warn({ err: e, network: def.name }, 'cleanup after a failed create failed'));
        await this.o.store.deleteNetwork(def.name).catch(() => undefined);
        throw err;
      }
      this.log.info({ network: def.name, mode: def.mode, subnet: def.subnet, bridge: def.bridge }, 'network created');
      return this.view(rec, []);
    });
  }

  async list(): Promise<NetworkView[]> {
    const nics = await this.o.store.listNicAllocations();
    return (await this.o.store.listNetworks()).map((n) => this.view(n, nics));
  }

  async show(name: string): Promise<NetworkDetailView> {
    const rec = await this.get(name);
    const nics = await this.o.store.listNicAllocations({ network: name });
    return { ...this.view(rec, nics), leases: await this.leasesOf(name) };
  }

  async leases(name: string): Promise<LeaseView[]> {
    await this.get(name);
    return this.leasesOf(name);
  }

  /** Refused with NETWORK_IN_USE while any VM's spec has a NIC on it. */
  async remove(name: string): Promise<void> {
    await this.get(name);
    return this.serial(async () => {
      await this.get(name);
      const users = (await (this.o.allVms ?? this.o.vms)()).filter((v) => networkNics(v.spec).some((n) => n.network === name)).map((v) => v.name);
      if (users.length > 0) fail('NETWORK_IN_USE', `network ${name} is used by the NICs of ${users.join(', ')}`, { details: { vms: users } });
      await this.requireHost().remove(name);
      await this.o.store.deleteNetwork(name);
      this.log.info({ network: name }, 'network removed');
    });
  }

  /** First run: a `default` NAT network (like libvirt's), when the host can have one and none was ever made. */
  async ensureDefault(): Promise<NetworkView | undefined> {
    if (!this.available || (await this.o.store.getNetwork(DEFAULT_NETWORK))) return undefined;
    return this.create({ name: DEFAULT_NETWORK, mode: 'nat' });
  }

  /**
   * Daemon start: the host gets exactly the stored networks and the NICs of
   * the VMs that run. A daemon that never had a network touches nothing (no
   * nftables table, no links): remove() already took away what the last one had.
   */
  async reconcile(): Promise<void> {
    if (!this.o.host) return;
    const host = this.o.host;
    await this.serial(async () => {
      const allocs = await this.o.store.listNicAllocations();
      let defs = (await this.o.store.listNetworks()).map((n) => toNetworkDef(n, allocs));
      if (defs.length === 0) return;
      const names = new Set(defs.map((d) => d.name));
      const nics: NicAttachment[] = [];
      for (const vm of await this.o.vms()) {
        if (!ACTIVE.has(vm.state)) continue;
        for (const n of networkNics(vm.spec)) {
          const a = allocs.find((x) => x.vm === vm.name && x.nic === n.name);
          if (a && names.has(a.network)) nics.push(toAttachment(vm, n, a));
        }
      }
      // A cluster's networks exist on the members that run their VMs (the next attach builds one where it is missing).
      if (this.o.store.spansHosts) defs = defs.filter((d) => nics.some((n) => n.network === d.name));
      await host.reconcile(defs, nics);
      this.log.info({ networks: defs.length, nics: nics.length }, 'networks reconciled');
    });
  }

  /** Before a start: every network the spec names exists (NETWORK_NOT_FOUND names the first missing one). */
  async checkSpec(spec: VmSpec): Promise<void> {
    const nics = networkNics(spec);
    if (nics.length > 0) this.requireHost();
    for (const n of nics) {
      if (!(await this.o.store.getNetwork(n.network))) fail('NETWORK_NOT_FOUND', `NIC ${n.name} of VM ${spec.name} is on network ${n.network}, which does not exist`);
    }
  }

  /** The networks `spec`'s NICs name that do not exist here (an incoming move checks before it starts). */
  async missingNetworks(spec: VmSpec): Promise<string[]> {
    const names = [...new Set(networkNics(spec).map((n) => n.network))];
    const out: string[] = [];
    for (const n of names) if (!(await this.o.store.getNetwork(n))) out.push(n);
    return out;
  }

  /**
   * Before QEMU starts: allocates (or reuses) each network NIC's address and
   * tap, then attaches them. Returns NIC name → tap. A failure halfway
   * detaches what was attached.
   */
  async attachVm(rec: VmRecord): Promise<Record<string, string>> {
    const nics = networkNics(rec.spec);
    if (nics.length === 0) return {};
    await this.checkSpec(rec.spec);
    const host = this.requireHost();
    return this.serial(async () => {
      const taps: Record<string, string> = {};
      const done: string[] = [];
      try {
        for (const n of nics) {
          taps[n.name] = await this.attachOne(host, rec, n);
          done.push(n.name);
        }
      } catch (err) {
        for (const nic of done.reverse()) await host.detach(rec.name, nic).catch((e: unknown) => this.log.warn({ err: e, vm: rec.name, nic }, 'detach after a failed attach failed'));
        throw err;
      }
      return taps;
    });
  }

  /**
   * NIC name → the MTU its guest must use, for the NICs on networks whose
   * frames are smaller than Ethernet's (the VXLAN overlay: guestMtuFor).
   * Read from the network records only, so a move's source and target agree.
   */
  async guestMtus(spec: VmSpec): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const n of networkNics(spec)) {
      const net = await this.o.store.getNetwork(n.network);
      const mtu = net ? guestMtuFor(net) : null;
      if (mtu !== null) out[n.name] = mtu;
    }
    return out;
  }

  /**
   * NIC hot-plug: allocates (or reuses) the address and tap of one network
   * NIC of `rec` (the NIC need not be in rec.spec yet) and attaches it.
   * Returns the tap. On failure nothing of it is left on the host.
   */
  async attachNic(rec: Pick<VmRecord, 'id' | 'name'>, n: NetworkNic): Promise<string> {
    if (!(await this.o.store.getNetwork(n.network))) fail('NETWORK_NOT_FOUND', `network ${n.network} does not exist`);
    const host = this.requireHost();
    return this.serial(async () => {
      try {
        return await this.attachOne(host, rec, n);
      } catch (err) {
        // The NIC is in no spec yet: its tap and its address both go.
        await host.detach(rec.name, n.name).catch((e: unknown) => this.log.warn({ err: e, vm: rec.name, nic: n.name }, 'detach after a failed attach failed'));
        await this.o.store.deleteNicAllocations(rec.name, n.name).catch(() => undefined);
        throw err;
      }
    });
  }

  /** Removes one NIC's tap and rules; with `release`, its address and tap allocation go too (the NIC left the spec). */
  async detachNic(vm: string, nic: string, o: { release: boolean }): Promise<void> {
    await this.serial(async () => {
      if (this.o.host) await this.o.host.detach(vm, nic);
      if (!o.release) return;
      const gone = (await this.o.store.listNicAllocations({ vm })).find((a) => a.nic === nic);
      await this.o.store.deleteNicAllocations(vm, nic);
      // The network's DHCP reservations no longer hold it.
      if (gone && this.o.host) {
        const net = await this.o.store.getNetwork(gone.network);
        if (net) await this.o.host.ensure(toNetworkDef(net, await this.o.store.listNicAllocations({ network: gone.network })));
      }
    });
  }

  /**
   * A running VM's NIC changed in its spec (its firewall): the host's rules
   * for it are made again from `rec.spec` — the tap and address stay, and the
   * whole ruleset is reloaded in one nft transaction.
   */
  async reapplyNic(rec: Pick<VmRecord, 'name' | 'spec'>, nic: string): Promise<void> {
    const host = this.requireHost();
    const n = networkNics(rec.spec).find((x) => x.name === nic);
    if (!n) fail('NIC_NOT_FOUND', `VM ${rec.name} has no NIC named ${nic} on a virtual network`);
    await this.serial(async () => {
      const a = (await this.o.store.listNicAllocations({ vm: rec.name })).find((x) => x.nic === nic);
      const net = await this.o.store.getNetwork(n.network);
      if (!a || !net || a.network !== n.network) fail('NIC_NOT_FOUND', `NIC ${nic} of VM ${rec.name} is not attached to network ${n.network}`);
      const att = toAttachment(rec, n, a);
      validateNicAttachment(att, toNetworkDef(net, await this.o.store.listNicAllocations({ network: n.network })));
      await host.attach(att);
    });
  }

  /** After QEMU ended (or a start failed): removes the VM's taps and rules. Allocations stay (stable addresses). */
  async detachVm(rec: Pick<VmRecord, 'name' | 'spec'>): Promise<void> {
    const nics = networkNics(rec.spec);
    if (nics.length === 0 || !this.o.host) return;
    const host = this.o.host;
    for (const n of nics) await host.detach(rec.name, n.name).catch((err: unknown) => this.log.warn({ err, vm: rec.name, nic: n.name }, 'detaching a NIC failed'));
  }

  /** A VM was removed: its addresses and taps are free again. */
  async forgetVm(vm: string): Promise<void> {
    await this.serial(() => this.o.store.deleteNicAllocations(vm));
  }

  /** Cluster members joined or left: the overlay networks' flood lists follow (no-op on a single host). */
  async refreshOverlay(): Promise<void> {
    const host = this.o.host;
    if (!host?.refreshOverlay) return;
    await this.serial(() => host.refreshOverlay!());
  }

  /** NIC allocations of one VM (for `vm show`). */
  allocationsOf(vm: string): Promise<NicAllocation[]> {
    return this.o.store.listNicAllocations({ vm });
  }

  private async attachOne(host: HostNetworks, rec: Pick<VmRecord, 'id' | 'name'>, n: NetworkNic): Promise<string> {
    const a = await this.allocate(rec, n);
    const all = await this.o.store.listNicAllocations({ network: n.network });
    const net = (await this.o.store.getNetwork(n.network))!;
    const def = toNetworkDef(net, all);
    const att = toAttachment(rec, n, a);
    validateNicAttachment(att, def);
    await host.ensure(def); // the network's DHCP reservations now hold this NIC
    await host.attach(this.o.tapOwner ? { ...att, owner: await this.o.tapOwner(rec) } : att);
    return a.tap;
  }

  private async allocate(rec: Pick<VmRecord, 'id' | 'name'>, n: NetworkNic): Promise<NicAllocation> {
    const mac = nicMac(rec, n);
    const all = await this.o.store.listNicAllocations();
    const mine = all.find((a) => a.vm === rec.name && a.nic === n.name);
    const net = (await this.o.store.getNetwork(n.network))!;
    const others = all.filter((a) => !(a.vm === rec.name && a.nic === n.name));
    const usedIps = others.filter((a) => a.network === n.network && a.ip !== null).map((a) => a.ip!);
    let ip: string | null = null;
    if (net.mode !== 'bridge') {
      if (n.ip !== undefined) {
        const holder = others.find((a) => a.network === n.network && a.ip === n.ip);
        if (holder) fail('NETWORK_INVALID', `address ${n.ip} on network ${n.network} is reserved for ${holder.vm}/${holder.nic}`, { details: { field: 'ip' } });
        ip = n.ip;
      } else if (mine && mine.network === n.network && mine.ip !== null && !usedIps.includes(mine.ip)) {
        ip = mine.ip;
      } else {
        ip = allocateAddress(toNetworkDef(net, others), usedIps);
      }
    }
    const usedTaps = new Set(others.map((a) => a.tap));
    let tap = mine?.tap ?? tapNameFor(rec.name, n.name);
    for (let i = 1; usedTaps.has(tap); i++) tap = tapNameFor(rec.name, `${n.name}#${i}`);
    const a: NicAllocation = { network: n.network, vm: rec.name, nic: n.name, mac, ip, tap };
    await this.o.store.putNicAllocation(a);
    return a;
  }

  private async leasesOf(name: string): Promise<LeaseView[]> {
    if (!this.o.host) return [];
    return this.o.host.leases(name);
  }

  private async defs(): Promise<NetworkDef[]> {
    const allocs = await this.o.store.listNicAllocations();
    return (await this.o.store.listNetworks()).map((n) => toNetworkDef(n, allocs));
  }

  private view(rec: NetworkRecord, nics: readonly NicAllocation[]): NetworkView {
    return { ...rec, nics: nics.filter((a) => a.network === rec.name).map(({ vm, nic, mac, ip, tap }) => ({ vm, nic, mac, ip, tap })) };
  }

  private async get(name: string): Promise<NetworkRecord> {
    const rec = await this.o.store.getNetwork(name);
    if (!rec) fail('NETWORK_NOT_FOUND', `no network named ${name}`);
    return rec;
  }

  private requireHost(): HostNetworks {
    if (!this.o.host) fail('NETWORK_UNAVAILABLE', 'this daemon cannot build virtual networks (it runs without root, or ip, nft or dnsmasq is missing)');
    return this.o.host;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run('networks', fn);
  }
}
