/**
 * Virtual network records and the allocations of the VM NICs on them (issue
 * 18). A separate interface from Store so backends can add it one at a time.
 */
import type { NetworkConfig } from '../spec/index.js';

export interface NetworkRecord extends NetworkConfig {
  createdAt: string;
}

export type NetworkPatch = Partial<Omit<NetworkConfig, 'name'>>;

/** A VM NIC's place on a network: stable across restarts, unique per host (tap) and per network (ip). */
export interface NicAllocation {
  network: string;
  vm: string;
  nic: string;
  mac: string;
  ip: string | null;
  tap: string;
}

export interface NicAllocationFilter {
  network?: string;
  vm?: string;
}

export interface NetworkStore {
  /**
   * True when the store is shared by cluster members (etcd): a network then
   * spans hosts, gets a VNI at create and a bridge network may run on the
   * VXLAN overlay alone. Absent on a single host's store (SQLite).
   */
  readonly spansHosts?: boolean;
  /** Throws NETWORK_EXISTS if the name is taken. */
  createNetwork(rec: Omit<NetworkRecord, 'createdAt'>): Promise<NetworkRecord>;
  getNetwork(name: string): Promise<NetworkRecord | undefined>;
  /** Sorted by name. */
  listNetworks(): Promise<NetworkRecord[]>;
  /** Throws NETWORK_NOT_FOUND if absent. */
  updateNetwork(name: string, patch: NetworkPatch): Promise<NetworkRecord>;
  /** Throws NETWORK_NOT_FOUND if absent; the network's NIC allocations go with it. */
  deleteNetwork(name: string): Promise<void>;
  /** Sorted by network, vm, nic. */
  listNicAllocations(filter?: NicAllocationFilter): Promise<NicAllocation[]>;
  /**
   * Records `a` (replacing the same vm/nic's previous allocation). Throws
   * NETWORK_NOT_FOUND if the network is absent; a taken tap or address is a
   * plain Error (a bug: callers pick free ones first).
   */
  putNicAllocation(a: NicAllocation): Promise<void>;
  /** Forgets a VM's allocations (one NIC, or all of them); returns how many went. */
  deleteNicAllocations(vm: string, nic?: string): Promise<number>;
}
