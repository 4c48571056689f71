/** Shapes the API returns and the client reads (types only). */
import type { VmSpec } from './schema.js';
import type { VmState } from './state.js';

export interface VmView {
  id: string;
  name: string;
  state: VmState;
  stateReason: string;
  host: string;
  spec: VmSpec;
  runtime: { pid: number; accel: 'kvm' | 'tcg'; startedAt: string; qemuVersion: string } | null;
  /** Actions the current state allows. */
  actions: string[];
  createdAt: string;
  updatedAt: string;
  /** Paths on the VM's host, for operators. */
  files: { serialLog: string; dir: string };
  /** The NICs with their addresses (GET /v1/vms/{name} and /v1/vms/{name}/nics fill it; lists leave it out). */
  nics?: VmNicView[];
}

/** Where an address of a NIC was seen: dnsmasq's lease for its MAC, or the guest agent's report of its interfaces. */
export type NicAddressSource = 'lease' | 'agent';

/** One NIC of a VM as `vm show` lists it. */
export interface VmNicView {
  name: string;
  type: 'user' | 'network';
  /** The virtual network (type network); null for user-mode NICs. */
  network: string | null;
  mac: string;
  model: string;
  /** The link state the guest sees (user-mode NICs: always true). */
  linkUp: boolean;
  /** The host tap while it is attached (the VM runs); null otherwise. */
  tap: string | null;
  /** The address reserved for it on its network (nat, isolated); null elsewhere. */
  reservedIp: string | null;
  /** Addresses seen now, each once per source (a lease and the agent may both name one). */
  addresses: Array<{ address: string; source: NicAddressSource }>;
}

/** What POST /v1/vms/:name/clone returns (or its operation's result). */
export interface CloneView {
  vm: VmView;
  /** Disks whose data were copied from the source. */
  copied: string[];
  /** Read-only images both VMs use. */
  shared: string[];
  /** What the clone does not take from the source, and why (MACs, host port forwards). */
  notes: string[];
}

export interface HealthView {
  ok: true;
  version: string;
  host: string;
  pid: number;
}

export interface ErrorBody {
  code: string;
  message: string;
  hint: string;
  details?: unknown;
}
