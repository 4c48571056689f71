/**
 * LinuxHostNetworks: the HostNetworks contract realised with iproute2, one
 * dnsmasq per network and Polyvisor's own nftables tables. Each method looks
 * at what the host has and changes only what differs; everything it makes is
 * marked as its own (links.ts) and nothing else is ever touched.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PolyvisorError, silentLogger, writeFileAtomic, type Logger } from '../shared/index.js';
import { dnsmasqConfig, dnsmasqPaths } from './dnsmasq-config.js';
import { dnsmasqPid, startDnsmasq, stopDnsmasq } from './dnsmasq-process.js';
import { parseCidr } from './ipv4.js';
import { parseLeases } from './leases.js';
import { gatewayMacFor } from './names.js';
import { ALIAS_PREFIX, linkAddresses, listLinks, netAlias, nicAlias, type LinkInfo } from './links.js';
import { nftRuleset } from './nft-ruleset.js';
import type { CommandRunner } from './runner.js';
import type { HostNetworks, Lease, NetworkDef, NicAttachment } from './types.js';
import { probeVlanSupport, requireVlanSupport, type VlanSupport } from './vlan-support.js';
import { OVERLAY_MTU, requireOverlayAddress, syncFloodEntries, vxlanAddArgv, vxlanNameFor } from './vxlan.js';

/** Where this member sits on the cluster's fabric (issue 19): bridge networks with a VNI get a VXLAN port. */
export interface OverlayOptions {
  /** This member's overlay address (VXLAN `local`); null while unknown: the VXLAN port waits for refreshOverlay(). */
  local(): string | null;
  /** Every live member's overlay address (this one's may be among them). */
  peers(): Promise<string[]>;
}

export interface LinuxHostNetworksOptions {
  /** The daemon's state directory: dnsmasq files live under STATE/networks/NAME/. */
  stateDir: string;
  runner: CommandRunner;
  logger?: Logger;
  /** Cluster members only: the VXLAN overlay of bridge networks that have a VNI. */
  overlay?: OverlayOptions;
}

const nicKey = (vm: string, nic: string): string => `${vm}/${nic}`;

/** Writes a file only when its content differs; true when it changed. */
async function writeIfChanged(file: string, text: string): Promise<boolean> {
  const old = await readFile(file, 'utf8').catch(() => null);
  if (old === text) return false;
  await writeFileAtomic(file, text, 0o644);
  return true;
}

export class LinuxHostNetworks implements HostNetworks {
  private readonly defs = new Map<string, NetworkDef>();
  private readonly nics = new Map<string, NicAttachment>();
  private readonly runner: CommandRunner;
  private readonly log: Logger;
  private vlanProbe: Promise<VlanSupport> | null = null;
  /** Flood-list updates run one at a time (ensure and refreshOverlay may overlap). */
  private floodChain: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: LinuxHostNetworksOptions) {
    this.runner = opts.runner;
    this.log = opts.logger ?? silentLogger;
  }

  private ip(...args: string[]): Promise<unknown> {
    return this.runner.run('ip', args);
  }

  private async applyRuleset(): Promise<void> {
    await this.runner.run('nft', ['-f', '-'], { input: nftRuleset([...this.defs.values()], [...this.nics.values()]) });
  }

  private async sysctl(key: string, value: string): Promise<void> {
    await this.runner.run('sysctl', ['-q', '-w', `${key}=${value}`]);
  }

  /** The link must be absent or carry our alias; anything else is someone else's. */
  private static ours(link: LinkInfo | undefined, alias: string, what: string): LinkInfo | undefined {
    if (link && link.alias !== alias) {
      throw new PolyvisorError('LINK_NOT_OURS', `${what} ${link.name} already exists and was not made by Polyvisor for this`, {
        details: { link: link.name, alias: link.alias },
      });
    }
    return link;
  }

  /** Probed once per daemon, in the runner's namespace; a VLAN network is refused before anything is made when it says no. */
  vlanSupport(): Promise<VlanSupport> {
    this.vlanProbe ??= probeVlanSupport(this.runner).then((s) => {
      this.log.info({ ...s }, 'kernel VLAN support probed');
      return s;
    });
    return this.vlanProbe;
  }

  async ensure(def: NetworkDef): Promise<void> {
    if (def.vlan !== null) requireVlanSupport(def, await this.vlanSupport());
    const links = await listLinks(this.runner);
    const byName = new Map(links.map((l) => [l.name, l]));
    const existing = LinuxHostNetworks.ours(byName.get(def.bridge), netAlias(def.name), 'interface');
    if (def.uplink !== null && !byName.has(def.uplink)) {
      throw new PolyvisorError('NETWORK_INVALID', `uplink interface ${def.uplink} does not exist on this host`, { details: { field: 'uplink' } });
    }
    const created = existing === undefined;
    try {
      await this.ensureBridge(def, existing);
      if (def.mode === 'bridge') {
        if (def.uplink !== null) {
          const up = byName.get(def.uplink)!;
          if (up.master !== def.bridge) await this.ip('link', 'set', 'dev', def.uplink, 'master', def.bridge);
          if (!up.up) await this.ip('link', 'set', 'dev', def.uplink, 'up');
          if (def.vlan !== null) await this.runner.run('bridge', ['vlan', 'add', 'dev', def.uplink, 'vid', String(def.vlan)]);
        }
        if (def.vni != null) await this.ensureVxlan(def, byName);
      } else {
        await this.ensureAddress(def);
        if (def.mode === 'nat') await this.sysctl('net.ipv4.ip_forward', '1');
      }
      this.defs.set(def.name, def);
      await this.applyRuleset();
      if (def.mode !== 'bridge') await this.ensureDnsmasq(def);
    } catch (err) {
      // Nothing half-created: a bridge made by this call goes again.
      this.defs.delete(def.name);
      if (created) await this.runner.run('ip', ['link', 'del', 'dev', def.bridge], { allowFail: true });
      await this.applyRuleset().catch(() => undefined);
      throw err;
    }
  }

  private async ensureBridge(def: NetworkDef, existing: LinkInfo | undefined): Promise<void> {
    const wantVlan = def.vlan !== null;
    if (existing === undefined) {
      // A gateway bridge gets a stable MAC (names.ts gatewayMacFor): the same on every host with this network.
      const mac = def.mode !== 'bridge' && def.subnet !== null ? ['address', gatewayMacFor(def.name, def.subnet)] : [];
      await this.ip('link', 'add', 'name', def.bridge, ...mac, 'type', 'bridge', ...(wantVlan ? ['vlan_filtering', '1'] : []));
      await this.ip('link', 'set', 'dev', def.bridge, 'alias', netAlias(def.name));
    } else if (existing.vlanFiltering !== wantVlan) {
      await this.ip('link', 'set', 'dev', def.bridge, 'type', 'bridge', 'vlan_filtering', wantVlan ? '1' : '0');
    }
    // Bridged IPv4 passes the inet hooks of this bridge only (per-bridge br_netfilter), where the NIC firewalls sit.
    if (!existing?.nfCallIptables) await this.ip('link', 'set', 'dev', def.bridge, 'type', 'bridge', 'nf_call_iptables', '1');
    if (wantVlan && def.mode !== 'bridge') {
      await this.runner.run('bridge', ['vlan', 'add', 'dev', def.bridge, 'vid', String(def.vlan), 'pvid', 'untagged', 'self']);
    }
    if (!existing?.up) await this.ip('link', 'set', 'dev', def.bridge, 'up');
  }

  /**
   * The network's VXLAN port (vxlan.ts): made once with this member's overlay
   * address, MTU lowered by the VXLAN overhead, enslaved and up; its flood
   * list then made exactly the other live members.
   */
  private async ensureVxlan(def: NetworkDef, byName: ReadonlyMap<string, LinkInfo>): Promise<void> {
    const local = this.opts.overlay?.local() ?? null;
    if (local === null) {
      this.log.warn({ network: def.name, vni: def.vni }, 'no overlay address on this host yet: the network stays local until refreshOverlay');
      return;
    }
    requireOverlayAddress(local, 'this host\'s overlay address');
    const name = vxlanNameFor(def.vni!);
    const existing = LinuxHostNetworks.ours(byName.get(name), netAlias(def.name), 'interface');
    if (existing === undefined) {
      await this.ip(...vxlanAddArgv(name, def.vni!, local));
      await this.ip('link', 'set', 'dev', name, 'alias', netAlias(def.name));
      await this.ip('link', 'set', 'dev', name, 'mtu', String(OVERLAY_MTU));
    }
    if (existing?.master !== def.bridge) await this.ip('link', 'set', 'dev', name, 'master', def.bridge);
    if (!existing?.up) await this.ip('link', 'set', 'dev', name, 'up');
    await this.syncFlood(name, local);
  }

  private syncFlood(dev: string, local: string): Promise<void> {
    const next = this.floodChain.then(async () => {
      const ch = await syncFloodEntries(this.runner, dev, local, await this.opts.overlay!.peers());
      if (ch.add.length + ch.del.length + ch.forgot.length > 0) this.log.info({ dev, added: ch.add, removed: ch.del, forgot: ch.forgot }, 'overlay flood list updated');
    });
    this.floodChain = next.catch(() => undefined);
    return next;
  }

  /**
   * Members joined or left: every overlay network set up here gets its flood
   * list made again (and its VXLAN port, if the overlay address was not known
   * when the network was set up).
   */
  async refreshOverlay(): Promise<void> {
    if (!this.opts.overlay) return;
    for (const def of [...this.defs.values()]) {
      if (def.mode !== 'bridge' || def.vni == null) continue;
      const byName = new Map((await listLinks(this.runner)).map((l) => [l.name, l]));
      if (byName.get(def.bridge)?.alias !== netAlias(def.name)) continue;
      await this.ensureVxlan(def, byName);
    }
  }

  private async ensureAddress(def: NetworkDef): Promise<void> {
    const prefix = parseCidr(def.subnet!)!.prefix;
    const want = `${def.gateway!}/${prefix}`;
    const have = await linkAddresses(this.runner, def.bridge);
    for (const a of have) if (a !== want) await this.ip('addr', 'del', a, 'dev', def.bridge);
    if (!have.includes(want)) await this.ip('addr', 'add', want, 'dev', def.bridge);
  }

  private async ensureDnsmasq(def: NetworkDef): Promise<void> {
    const paths = dnsmasqPaths(this.opts.stateDir, def.name);
    await mkdir(paths.dir, { recursive: true, mode: 0o755 });
    const confChanged = await writeIfChanged(paths.conf, dnsmasqConfig(def, paths));
    const pid = await dnsmasqPid(paths);
    if (pid !== null && !confChanged) return;
    if (pid !== null) await stopDnsmasq(paths);
    const started = await startDnsmasq(this.runner, paths);
    this.log.info({ network: def.name, pid: started }, 'dnsmasq started');
  }

  async remove(name: string): Promise<void> {
    const links = await listLinks(this.runner);
    const def = this.defs.get(name);
    const paths = dnsmasqPaths(this.opts.stateDir, name);
    await stopDnsmasq(paths);
    await rm(paths.dir, { recursive: true, force: true });
    for (const l of links) {
      if (l.alias === netAlias(name)) await this.ip('link', 'del', 'dev', l.name);
    }
    this.defs.delete(name);
    if (def !== undefined || links.some((l) => l.alias === netAlias(name))) await this.applyRuleset();
  }

  async attach(a: NicAttachment): Promise<void> {
    const def = this.defs.get(a.network);
    if (!def) throw new PolyvisorError('NETWORK_INVALID', `network ${a.network} is not set up on this host`, { details: { field: 'network' } });
    const links = await listLinks(this.runner);
    let tap = LinuxHostNetworks.ours(links.find((l) => l.name === a.tap), nicAlias(a.vm, a.nic), 'interface');
    // A tap is opened only by its owner (or CAP_NET_ADMIN), and iproute2 cannot change the owner of one that exists: make it again.
    if (tap && a.owner && (tap.tunUser !== a.owner.uid || tap.tunGroup !== a.owner.gid)) {
      await this.ip('link', 'del', 'dev', a.tap);
      tap = undefined;
    }
    const created = tap === undefined;
    const before = this.nics.get(nicKey(a.vm, a.nic));
    try {
      if (created) {
        const owner = a.owner ? ['user', String(a.owner.uid), 'group', String(a.owner.gid)] : [];
        await this.ip('tuntap', 'add', 'dev', a.tap, 'mode', 'tap', ...owner);
        await this.ip('link', 'set', 'dev', a.tap, 'alias', nicAlias(a.vm, a.nic));
      }
      if (tap?.master !== def.bridge) await this.ip('link', 'set', 'dev', a.tap, 'master', def.bridge);
      if (def.vlan !== null) {
        await this.runner.run('bridge', ['vlan', 'del', 'dev', a.tap, 'vid', '1'], { allowFail: true });
        await this.runner.run('bridge', ['vlan', 'add', 'dev', a.tap, 'vid', String(def.vlan), 'pvid', 'untagged']);
      }
      await this.applyBandwidth(a, tap);
      if (!tap?.up) await this.ip('link', 'set', 'dev', a.tap, 'up');
      this.nics.set(nicKey(a.vm, a.nic), a);
      await this.applyRuleset();
    } catch (err) {
      // A NIC that was already attached keeps what it had (its rules stay in force); a new one goes.
      if (before && !created) this.nics.set(nicKey(a.vm, a.nic), before);
      else this.nics.delete(nicKey(a.vm, a.nic));
      if (created) await this.runner.run('ip', ['link', 'del', 'dev', a.tap], { allowFail: true });
      await this.applyRuleset().catch(() => undefined);
      throw err;
    }
  }

  /** Traffic to the guest (inBytesPerS) is shaped with tbf on the tap; what the guest sends is policed in the bridge table (nft-ruleset.ts). */
  private async applyBandwidth(a: NicAttachment, tap: LinkInfo | undefined): Promise<void> {
    const rate = a.bandwidth?.inBytesPerS ?? null;
    if (rate !== null) {
      const burst = Math.max(Math.ceil(rate / 10), 16_384);
      await this.runner.run('tc', ['qdisc', 'replace', 'dev', a.tap, 'root', 'tbf', 'rate', `${rate * 8}bit`, 'burst', `${burst}b`, 'latency', '50ms']);
    } else if (tap?.qdisc === 'tbf') {
      await this.runner.run('tc', ['qdisc', 'del', 'dev', a.tap, 'root'], { allowFail: true });
    }
  }

  async detach(vm: string, nic: string): Promise<void> {
    const alias = nicAlias(vm, nic);
    for (const l of await listLinks(this.runner)) if (l.alias === alias) await this.ip('link', 'del', 'dev', l.name);
    if (this.nics.delete(nicKey(vm, nic))) await this.applyRuleset();
  }

  async leases(network: string): Promise<Lease[]> {
    const text = await readFile(dnsmasqPaths(this.opts.stateDir, network).leases, 'utf8').catch(() => '');
    return parseLeases(text);
  }

  async reconcile(defs: NetworkDef[], nics: NicAttachment[]): Promise<void> {
    const wantNets = new Set(defs.map((d) => netAlias(d.name)));
    const wantNics = new Set(nics.map((n) => nicAlias(n.vm, n.nic)));
    for (const l of await listLinks(this.runner)) {
      if (!l.alias?.startsWith(ALIAS_PREFIX) || wantNets.has(l.alias) || wantNics.has(l.alias)) continue;
      this.log.info({ link: l.name, alias: l.alias }, 'removing a leftover Polyvisor link');
      await this.ip('link', 'del', 'dev', l.name);
    }
    const dirs = await readdir(join(this.opts.stateDir, 'networks')).catch(() => [] as string[]);
    for (const name of dirs) {
      if (defs.some((d) => d.name === name)) continue;
      await stopDnsmasq(dnsmasqPaths(this.opts.stateDir, name));
      await rm(dnsmasqPaths(this.opts.stateDir, name).dir, { recursive: true, force: true });
    }
    this.defs.clear();
    this.nics.clear();
    for (const d of defs) await this.ensure(d);
    for (const n of nics) await this.attach(n);
    await this.applyRuleset();
  }
}
