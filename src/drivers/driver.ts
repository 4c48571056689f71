/**
 * What lifecycle/ may know of a hypervisor: small capability interfaces.
 * drivers/qemu implements them; a libvirt driver can follow.
 */
import type { VmSpec } from '../spec/index.js';
import type { HotplugLayout } from './resource-hotplug.js';

export type Accel = 'kvm' | 'tcg';

/** Everything needed to launch one VM; built by lifecycle, turned into argv by the driver. */
export interface LaunchPlan {
  /** Stable VM id (uuid), passed to QEMU as -uuid and used to recognise the process. */
  id: string;
  spec: VmSpec;
  /** Per-VM runtime directory (sockets, pidfile, serial log, NVRAM, save file). */
  dir: string;
  /** Disk name → image path, resolved for disks given by size. */
  diskPaths: Record<string, string>;
  /** Restore guest state from this save file (suspend to disk) instead of a cold boot. */
  restoreFrom?: string;
  /** NIC name → the host tap device attached for it (NICs on virtual networks; lifecycle attaches them before a start). */
  taps?: Record<string, string>;
  /** NIC name → the MTU its guest must use (networks whose frames are smaller than 1500, the VXLAN overlay); virtio NICs get host_mtu. */
  nicMtu?: Record<string, number>;
  /** Encrypted disks (spec disk.encrypt): disk name → the 0600 file holding its LUKS passphrase while QEMU starts (-object secret,file=). */
  diskSecrets?: Record<string, string>;
  /** Encrypted disks with external snapshots: disk name → the backing images below its active one (nearest first), each opened with the disk's secret. */
  diskBackingFiles?: Record<string, string[]>;
  /** Target of a live migration: the source's boot-time layout and hot-added vCPUs and DIMMs (the spec holds only the totals). */
  hotplugged?: HotplugLayout;
}

/** Files a running VM owns inside LaunchPlan.dir. */
export interface RuntimeFiles {
  qmpSocket: string;
  agentSocket: string;
  serialSocket: string;
  serialLog: string;
  pidFile: string;
  vncSocket: string;
  nvram: string;
  saveFile: string;
}

export type RunStatus = 'running' | 'paused' | 'shutdown' | 'other';

/** Events a running instance reports; lifecycle turns them into state changes. */
export type DriverEvent =
  | { type: 'paused'; reason: string }
  | { type: 'resumed' }
  | { type: 'reset'; guest: boolean }
  | { type: 'shutdown'; guest: boolean; reason: string }
  | { type: 'powerdown-requested' }
  /** The QEMU process is gone (monitor closed and process exited). */
  | { type: 'exited'; reason: string };

export interface RuntimeInfo {
  pid: number;
  accel: Accel;
  startedAt: string;
  qemuVersion: string;
}

/** A live hypervisor process for one VM. */
export interface Instance {
  readonly info: RuntimeInfo;
  readonly files: RuntimeFiles;
  status(signal: AbortSignal): Promise<RunStatus>;
  onEvent(listener: (e: DriverEvent) => void): () => void;
  /** Drops the monitor connection; the VM keeps running (daemon shutdown). */
  detach(): void;
}

export interface Pausable {
  pause(signal: AbortSignal): Promise<void>;
  resume(signal: AbortSignal): Promise<void>;
}

export interface PowerControl {
  /** ACPI power button. Resolves when sent, not when the guest is off. */
  powerdown(signal: AbortSignal): Promise<void>;
  /** Guest reboot: through the guest agent when it answers, else a hard reset. */
  reboot(signal: AbortSignal): Promise<'agent' | 'reset'>;
  /** Kills the process (SIGTERM then SIGKILL) and resolves when it has exited. */
  kill(signal: AbortSignal): Promise<void>;
  /** Resolves when the process has exited. */
  waitExit(signal: AbortSignal): Promise<void>;
}

export interface Suspendable {
  /** Pauses, writes RAM and device state to files.saveFile, and ends the process. */
  saveToDisk(signal: AbortSignal, onProgress?: (fraction: number) => void): Promise<void>;
}

export type VmInstance = Instance & Pausable & PowerControl & Suspendable;

export interface AccelProbe {
  accel: Accel;
  /** Why KVM was or was not chosen, for `doctor` and the logs. */
  reason: string;
  kvmTried: boolean;
}

/** Adopting a VM after a daemon restart: a live instance, or why it is gone. */
export type AdoptResult = { ok: true; instance: VmInstance } | { ok: false; reason: string };

export interface Bootable {
  readonly name: string;
  /** Files a VM with this runtime dir uses. */
  files(dir: string): RuntimeFiles;
  start(plan: LaunchPlan, signal: AbortSignal): Promise<VmInstance>;
  adopt(plan: LaunchPlan, signal: AbortSignal): Promise<AdoptResult>;
  probeAccel(signal: AbortSignal): Promise<AccelProbe>;
}

export type Driver = Bootable;
