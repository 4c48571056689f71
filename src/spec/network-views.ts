/**
 * Virtual networks as the API, the CLI and the store see them (issue 18).
 * The host plumbing's own types (NetworkDef, NicAttachment) live in
 * src/network; these are the user-facing shapes. Pure types.
 */

export const NETWORK_MODES = ['nat', 'isolated', 'bridge'] as const;
export type NetworkModeName = (typeof NETWORK_MODES)[number];

/** A network as stored: what was asked for with every default filled in (no reservations: those come from the NICs). */
export interface NetworkConfig {
  name: string;
  mode: NetworkModeName;
  /** The Linux bridge this network owns. */
  bridge: string;
  subnet: string | null;
  gateway: string | null;
  dhcpRange: { start: string; end: string } | null;
  dnsDomain: string | null;
  uplink: string | null;
  vlan: number | null;
  /**
   * The VXLAN network identifier of a network that spans cluster hosts, chosen
   * by the cluster store at create and kept in the record; absent (or null) on
   * a single host's network (docs/networks.md "Across cluster hosts").
   */
  vni?: number | null;
}

/** One VM NIC on a network: its stored allocation. */
export interface NetworkNicView {
  vm: string;
  nic: string;
  mac: string;
  /** The reserved address (nat/isolated); null in bridge mode. */
  ip: string | null;
  tap: string;
}

export interface NetworkView extends NetworkConfig {
  createdAt: string;
  nics: NetworkNicView[];
}

export interface LeaseView {
  mac: string;
  ip: string;
  hostname: string | null;
  expiresAt: string | null;
}

export interface NetworkDetailView extends NetworkView {
  leases: LeaseView[];
}

/** What `POST /v1/networks` takes: only name and mode are required. */
export interface NetworkCreateRequest {
  name: string;
  mode: NetworkModeName;
  subnet?: string;
  dhcpRange?: { start: string; end: string };
  dnsDomain?: string;
  uplink?: string;
  vlan?: number;
}
