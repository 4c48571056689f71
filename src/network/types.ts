/**
 * The contract between the network objects (store, API, CLI, lifecycle: what
 * `polyvisor network create` records and what a VM's NICs ask for) and the
 * host plumbing that realises them with Linux bridges and taps, one dnsmasq
 * per network, and Polyvisor's own nftables table. Types only.
 */

export type NetworkMode = 'nat' | 'isolated' | 'bridge';

export interface DhcpReservation {
  /** Lowercase, like 52:54:00:12:34:56. */
  mac: string;
  ip: string;
  /** The name the network's DNS answers for this address (the VM's name). */
  hostname: string | null;
}

/** A network as the host realises it: what was stored, every default filled in. */
export interface NetworkDef {
  /** 1-12 characters, ^[a-z][a-z0-9-]*$ (the bridge and tap names built from it must fit Linux's 15). */
  name: string;
  mode: NetworkMode;
  /** The Linux bridge Polyvisor creates and owns for this network (≤ 15 characters). */
  bridge: string;
  /** nat and isolated: the IPv4 subnet (CIDR); the host takes the first usable address (gateway, DNS, DHCP). null in bridge mode. */
  subnet: string | null;
  /** The host's address on the bridge (nat and isolated); null in bridge mode. */
  gateway: string | null;
  dhcpRange: { start: string; end: string } | null;
  /** Names under this domain resolve to the network's guests (dnsmasq); null: the network's name. */
  dnsDomain: string | null;
  /** bridge mode: the host interface enslaved to the bridge; nat: the interface traffic leaves by (null: any). */
  uplink: string | null;
  /** 1-4094: the guests' ports are untagged members of this VLAN (bridge VLAN filtering); null: no VLAN. */
  vlan: number | null;
  reservations: DhcpReservation[];
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
}
