/**
 * A hypervisor Polyvisor talks to but does not own processes for: libvirtd,
 * vCenter/ESXi, Proxmox VE. An endpoint is a named connection to one; its
 * driver connects and hands back a session whose optional parts are the
 * capabilities it has (capabilities.ts). The native QEMU engine is the
 * `local` endpoint, adapted to the same session shape by endpoints/.
 *
 * Every call takes an AbortSignal; failures are catalogue errors:
 * ENDPOINT_UNREACHABLE, ENDPOINT_AUTH_FAILED, ENDPOINT_TLS_UNTRUSTED,
 * ENDPOINT_LOST (went away mid-operation), ENDPOINT_PROTOCOL,
 * ENDPOINT_TASK_FAILED (the hypervisor ran it and said no),
 * FOREIGN_VM_NOT_FOUND, INVALID_TRANSITION (e.g. start a running VM).
 */
import type { Duplex } from 'node:stream';
import type { EndpointAddRequest, VmSpec } from '../spec/index.js';
import type { CapabilityMatrix } from './capabilities.js';

/**
 * What Polyvisor knows of how to reach an endpoint (the admin's request without the driver's name);
 * credentials come from the secrets store. url: a libvirt URI, https://vcenter/sdk, https://pve:8006;
 * token: an API token (Proxmox `USER@REALM!TOKENID=SECRET`); ca: PEM text to trust; insecure: no checks.
 */
export type EndpointConnection = Omit<EndpointAddRequest, 'driver'>;

export type ForeignVmState = 'running' | 'stopped' | 'paused' | 'suspended' | 'unknown';

export interface ForeignDisk {
  /** The hypervisor's name for the disk (vda, "Hard disk 1", scsi0). */
  name: string;
  sizeBytes: number | null;
  /** Where the hypervisor keeps it ("/var/lib/libvirt/images/a.qcow2", "[datastore1] vm/vm.vmdk", "local-lvm:vm-100-disk-0"). */
  location: string | null;
  format: string | null;
}

export interface ForeignNic {
  mac: string | null;
  network: string | null;
  model: string | null;
}

/** One VM as a foreign hypervisor describes it, mapped to neutral fields. */
export interface ForeignVm {
  /** The hypervisor's own id: libvirt UUID, vSphere managed object id (vm-42), Proxmox "node/vmid". */
  id: string;
  name: string;
  state: ForeignVmState;
  cpus: number;
  memoryBytes: number;
  /** Host inside the endpoint (ESXi host, Proxmox node, libvirt host name); null when the endpoint is one host. */
  host: string | null;
  guestOs: string | null;
  firmware: 'bios' | 'uefi' | null;
  disks: ForeignDisk[];
  nics: ForeignNic[];
}

export interface EndpointInfo {
  /** "libvirt 9.0.0 (QEMU 7.2.0)", "VMware vCenter Server 6.5.0", "pve-manager 8.2". */
  product: string;
  version: string;
  /** Hosts (nodes) inside the endpoint, for migration targets. */
  hosts: string[];
}

export type Progress = (fraction: number, note?: string) => void;

export interface ForeignPower {
  start?(vm: string, signal: AbortSignal): Promise<void>;
  /** Asks the guest to shut down; resolves when the request is accepted. */
  shutdown?(vm: string, signal: AbortSignal): Promise<void>;
  kill?(vm: string, signal: AbortSignal): Promise<void>;
  pause?(vm: string, signal: AbortSignal): Promise<void>;
  resume?(vm: string, signal: AbortSignal): Promise<void>;
  /** Saves RAM to disk and stops (libvirt managed save, vSphere suspend, Proxmox hibernate). */
  suspend?(vm: string, signal: AbortSignal): Promise<void>;
  reboot?(vm: string, signal: AbortSignal): Promise<void>;
}

export interface ForeignSnapshot {
  name: string;
  /** Parent snapshot's name; null for a root. */
  parent: string | null;
  createdAt: string | null;
  description: string;
  /** Whether the snapshot holds RAM (revert gives a running VM). */
  memory: boolean;
  /** The snapshot the VM currently runs from. */
  current: boolean;
}

export interface ForeignSnapshots {
  list(vm: string, signal: AbortSignal): Promise<ForeignSnapshot[]>;
  create(vm: string, snap: { name: string; description?: string; memory: boolean }, signal: AbortSignal, onProgress?: Progress): Promise<void>;
  revert(vm: string, name: string, signal: AbortSignal, onProgress?: Progress): Promise<void>;
  remove(vm: string, name: string, signal: AbortSignal, onProgress?: Progress): Promise<void>;
}

export interface ForeignMigration {
  /** Moves a VM to another host of the same endpoint (live when it runs). */
  migrate(vm: string, targetHost: string, signal: AbortSignal, onProgress?: Progress): Promise<void>;
}

export interface ForeignReconfigure {
  /** CPU count and memory of a stopped VM. */
  setCpuMemory(vm: string, change: { cpus?: number; memoryBytes?: number }, signal: AbortSignal): Promise<void>;
}

export interface ForeignClone {
  clone(vm: string, newName: string, signal: AbortSignal, onProgress?: Progress): Promise<ForeignVm>;
}

/** A disk of a stopped foreign VM that Polyvisor can copy out (move.toLocal). */
export interface ExportableDisk {
  name: string;
  sizeBytes: number;
  /** Format of the bytes `open` yields (qemu-img's name: vmdk, qcow2, raw). */
  format: string;
  /** A file on this host qemu-img can read directly (libvirt on the same host), when there is one. */
  localPath?: string;
  /** The disk's bytes as a stream (datastore HTTP, NFC lease, storage download). */
  open(signal: AbortSignal): Promise<NodeJS.ReadableStream>;
}

export interface ForeignExporter {
  /** Disks of a stopped VM, in the VM's boot order. */
  disks(vm: string, signal: AbortSignal): Promise<ExportableDisk[]>;
  /** The VM's config mapped to a spec; what does not map is listed, not dropped silently. */
  toSpec(vm: string, signal: AbortSignal): Promise<{ spec: VmSpec; lossy: string[] }>;
}

/** Creating a VM on the endpoint from a local one (move.fromLocal). */
export interface ForeignImporter {
  /** Defines (does not start) a VM from a spec whose disks are files on the endpoint's host. */
  define(spec: VmSpec, disks: Record<string, { path: string; format: string }>, signal: AbortSignal): Promise<ForeignVm>;
  /** Where the endpoint wants disk files of a new VM named `vm` (a directory on its host). */
  diskDir(vm: string): string;
}

export interface ForeignChange {
  vm: string;
  state?: ForeignVmState;
  /** The VM was removed (undefined) from the endpoint. */
  gone?: boolean;
}

export interface ForeignEvents {
  /** Pushes state changes as the hypervisor reports them; returns a stop function. */
  watch(onChange: (c: ForeignChange) => void, onError: (err: Error) => void): () => void;
}

export interface ForeignVmStats {
  vm: string;
  cpuSeconds: number | null;
  /** CPU in use now as a fraction of the VM's vCPUs (0-1), from hypervisors that give no cumulative counter (Proxmox). */
  cpuFraction?: number | null;
  memoryUsedBytes: number | null;
  diskReadBytes: number | null;
  diskWriteBytes: number | null;
  netRxBytes: number | null;
  netTxBytes: number | null;
}

export interface ForeignMetrics {
  stats(signal: AbortSignal): Promise<ForeignVmStats[]>;
}

export interface ForeignConsoles {
  /** The VM's serial console as a byte stream (write keys, read output). */
  serial(vm: string, signal: AbortSignal): Promise<Duplex>;
}

/** A connected endpoint. Optional parts present exactly when the driver's matrix says supported. */
export interface EndpointSession {
  info(signal: AbortSignal): Promise<EndpointInfo>;
  /**
   * Every VM. `brief`: the caller needs no disks and NICs (the inventory's rows), so a driver for which they
   * are the expensive part (vSphere: the device list of every VM) may leave them empty; get() always has them.
   */
  list(signal: AbortSignal, opts?: { brief?: boolean }): Promise<ForeignVm[]>;
  /** FOREIGN_VM_NOT_FOUND when absent. */
  get(vm: string, signal: AbortSignal): Promise<ForeignVm>;
  close(): Promise<void>;
  power?: ForeignPower;
  snapshots?: ForeignSnapshots;
  consoles?: ForeignConsoles;
  migration?: ForeignMigration;
  reconfigure?: ForeignReconfigure;
  clone?: ForeignClone;
  exporter?: ForeignExporter;
  importer?: ForeignImporter;
  events?: ForeignEvents;
  metrics?: ForeignMetrics;
}

/** A driver for remote endpoints: libvirt, vsphere, proxmox. */
export interface EndpointDriver {
  /** Registry key and `--driver` value. */
  readonly name: string;
  /** One line for `driver list`: what it talks to and how. */
  readonly title: string;
  /** What a URL for it looks like, for help and errors. */
  readonly urlExample: string;
  readonly capabilities: CapabilityMatrix;
  /** Set when no real server of this kind has been driven yet, only the named simulator or fake (docs/drivers.md says so). */
  readonly testedAgainst?: string;
  /** Checks the URL and credentials, connects, and proves it with one call; catalogue errors on failure. */
  connect(c: EndpointConnection, signal: AbortSignal): Promise<EndpointSession>;
}
