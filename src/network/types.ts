/**
 * The contract between the network objects (store, API, CLI, lifecycle: what
 * `polyvisor network create` records and what a VM's NICs ask for) and the
 * host plumbing that realises them with Linux bridges and taps, one dnsmasq
 * per network, and Polyvisor's own nftables table. Types only.
 */

import type { NetworkConfig, NetworkModeName } from '../spec/index.js';

export type NetworkMode = NetworkModeName;

export interface DhcpReservation {
  /** Lowercase, like 52:54:00:12:34:56. */
  mac: string;
  ip: string;
  /** The name the network's DNS answers for this address (the VM's name). */
  hostname: string | null;
}

/**
 * A network as the host realises it: the stored NetworkConfig (spec/network-views.ts: name, mode, the
 * bridge it owns, subnet and gateway (null in bridge mode), DHCP range, DNS domain, uplink, VLAN), every
 * default filled in, plus the address reservations of the NICs on it.
 */
export interface NetworkDef extends NetworkConfig {
  reservations: DhcpReservation[];
}

/** What this kernel offers for VLANs (vlan-support.ts probes it). */
export interface VlanSupport {
  /** CONFIG_BRIDGE_VLAN_FILTERING: `ip link set dev BR type bridge vlan_filtering 1` works. What VLAN networks use. */
  bridgeVlanFiltering: boolean;
  /** CONFIG_VLAN_8021Q: `ip link add link DEV type vlan id N` works. */
  dot1q: boolean;
  /** What the kernel said for each missing part (empty when both work). */
  detail: string;
}

export interface FirewallRule {
  direction: 'in' | 'out';
  action: 'accept' | 'drop';
  protocol: 'tcp' | 'udp' | 'icmp' | 'any';
  /** tcp/udp only: one port or an inclusive range. */
  port: number | { from: number; to: number } | null;
  /** The other end's address or CIDR (source for 'in', destination for 'out'); null: any. */
  peer: string | null;
}

export interface NicFirewall {
  /** What happens to traffic no rule matches. */
  defaultIn: 'accept' | 'drop';
  defaultOut: 'accept' | 'drop';
  rules: FirewallRule[];
}

export interface NetPortForward {
  protocol: 'tcp' | 'udp';
  /** The host port (DNAT from the uplink side and from the host itself). */
  hostPort: number;
  guestPort: number;
}

/** One VM NIC on a network, as the host plumbs it. */
export interface NicAttachment {
  vm: string;
  /** The NIC's name in the VM's spec (net0…). */
  nic: string;
  network: string;
  mac: string;
  /** The tap device (≤ 15 characters, unique on the host); QEMU opens it with -netdev tap,ifname=TAP,script=no,downscript=no. */
  tap: string;
  /** The guest's address on nat/isolated networks (a reservation, always set there); null in bridge mode. */
  ip: string | null;
  /** Anti-spoofing: frames from this tap must carry this MAC (and this IP when set). */
  antiSpoof: boolean;
  /** null: no per-NIC firewall (everything the network allows passes). */
  firewall: NicFirewall | null;
  portForwards: NetPortForward[];
  /** Egress and ingress limits in bytes per second; null: unlimited. */
  bandwidth: { inBytesPerS: number | null; outBytesPerS: number | null } | null;
  /** Link state as the guest sees it (QEMU set_link); the plumbing keeps the tap up either way. */
  linkUp: boolean;
  /**
   * The uid and gid of the QEMU that opens the tap (qemuUser: per-vm): the tap
   * is created owned by them (`ip tuntap add … user UID group GID`), and an
   * existing tap of another owner is made again. Absent: created without an
   * owner (only a process with CAP_NET_ADMIN opens it), an existing tap kept.
   */
  owner?: { uid: number; gid: number };
}

export interface Lease {
  mac: string;
  ip: string;
  hostname: string | null;
  /** ISO time; null: infinite. */
  expiresAt: string | null;
}

/**
 * What the host plumbing offers (src/network). Every method is idempotent and
 * touches only Polyvisor's own links (named by NetworkDef.bridge and
 * NicAttachment.tap), its own nftables table and its own dnsmasq processes.
 */
export interface HostNetworks {
  /** Creates or corrects the bridge, its address, its dnsmasq and its nftables rules; nothing twice. */
  ensure(def: NetworkDef): Promise<void>;
  /** Removes the bridge, the rules, the dnsmasq process and its lease and config files: no trace. */
  remove(name: string): Promise<void>;
  /** Creates the tap, enslaves it to the network's bridge, applies its VLAN, anti-spoofing, firewall, forwards and limits. */
  attach(a: NicAttachment): Promise<void>;
  /** Removes the tap and every rule of that NIC. */
  detach(vm: string, nic: string): Promise<void>;
  leases(network: string): Promise<Lease[]>;
  /**
   * At daemon start: makes the host match exactly these networks and NICs,
   * creating what is missing and removing Polyvisor's own leftovers, never
   * anyone else's; a second call with the same input changes nothing.
   */
  reconcile(defs: NetworkDef[], nics: NicAttachment[]): Promise<void>;
  /** Cluster members: remakes the overlay networks' flood lists after members joined or left (vxlan.ts). */
  refreshOverlay?(): Promise<void>;
  /** What the kernel offers for VLANs (probed once; vlan-support.ts). Absent: a plumbing that needs no kernel (tests). */
  vlanSupport?(): Promise<VlanSupport>;
}
