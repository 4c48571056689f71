/** Shapes of endpoints (other hypervisors), drivers and the inventory across them, as the API returns them. */
import type { VmView } from './views.js';

/** The endpoint every daemon has: its own QEMU engine. */
export const LOCAL_ENDPOINT = 'local';

export const FOREIGN_VM_STATES = ['running', 'stopped', 'paused', 'suspended', 'unknown'] as const;
export type ForeignVmStateName = (typeof FOREIGN_VM_STATES)[number];

/** What an admin gives to add an endpoint (POST /v1/endpoints); the password, token and CA go to the secrets store. */
export interface EndpointAddRequest {
  name: string;
  driver: string;
  url: string;
  user?: string;
  password?: string;
  token?: string;
  ca?: string;
  insecure?: boolean;
}

/** A named connection to a hypervisor (its credentials are never shown). */
export interface EndpointView {
  name: string;
  driver: string;
  url: string;
  user: string | null;
  /** How it logs in: a user and password, an API token, or nothing (a local libvirt socket). */
  auth: 'password' | 'token' | 'none';
  /** How its certificate is checked: a given CA, not at all (labs), the system's CAs, or no TLS. */
  tls: 'ca' | 'insecure' | 'system' | 'none';
  createdAt: string;
  updatedAt: string;
  /** The last contact: null before the first. */
  status: EndpointStatusView | null;
}

export interface EndpointStatusView {
  reachable: boolean;
  product: string | null;
  version: string | null;
  hosts: string[];
  vms: number | null;
  checkedAt: string;
  error: { code: string; message: string } | null;
}

export interface CapabilityCellView {
  supported: boolean;
  note?: string;
}

/** A row of `polyvisor driver list`: a driver and what it can do. */
export interface DriverView {
  name: string;
  title: string;
  /** false: reached only through file formats (Hyper-V, XCP-ng), not as a live endpoint. */
  live: boolean;
  urlExample: string;
  capabilities: Record<string, CapabilityCellView>;
}

/** One VM of any endpoint, as the inventory lists it. Local VMs are endpoint "local". */
export interface InventoryVmView {
  endpoint: string;
  driver: string;
  /** How to address it: NAME for local VMs, ENDPOINT/NAME for others. */
  ref: string;
  name: string;
  /** The hypervisor's own id (local: the VM's uuid). */
  id: string;
  state: string;
  cpus: number;
  memoryBytes: number;
  host: string | null;
  /** Actions its driver can do from this state (capability names, e.g. power.start). */
  actions: string[];
}

/** GET /v1/inventory: every endpoint's VMs, and endpoints that could not be read. */
export interface InventoryView {
  vms: InventoryVmView[];
  /** Endpoints whose listing failed, with why; their VMs are missing from `vms` (or stale, see `stale`). */
  errors: Array<{ endpoint: string; code: string; message: string }>;
  /** Endpoints whose rows come from the cache because the endpoint did not answer. */
  stale: string[];
}

/** A foreign VM in full (GET /v1/endpoints/:endpoint/vms/:name). */
export interface ForeignVmView extends InventoryVmView {
  guestOs: string | null;
  firmware: 'bios' | 'uefi' | null;
  disks: Array<{ name: string; sizeBytes: number | null; location: string | null; format: string | null }>;
  nics: Array<{ mac: string | null; network: string | null; model: string | null }>;
}

export interface ForeignSnapshotView {
  name: string;
  parent: string | null;
  createdAt: string | null;
  description: string;
  memory: boolean;
  current: boolean;
}

/** What `polyvisor import ENDPOINT/VM` gives back: the local VM, and what of the source did not map. */
export interface ImportView {
  vm: VmView;
  source: string;
  lossy: string[];
  disks: Array<{ name: string; fromFormat: string; bytes: number }>;
}

/** What `polyvisor vm move VM --to ENDPOINT` gives back. */
export interface MoveOutView {
  vm: ForeignVmView;
  endpoint: string;
  /** Disks copied as qcow2 to the endpoint. */
  copied: string[];
  /** Read-only images both sides name by path. */
  shared: string[];
  /** false with keep: the local VM is still here. */
  localRemoved: boolean;
}
