/** What `polyvisor doctor` reports, and the narrow capabilities its checks read. */
import type { AccelProbe } from '../drivers/index.js';
import type { VmService } from '../lifecycle/index.js';
import type { VlanSupport } from '../network/index.js';
import type { NetworkConfig } from '../spec/index.js';
import type { PoolView, VolumeView } from '../storage/index.js';

export type Severity = 'ok' | 'info' | 'warning' | 'critical';

export interface Fix {
  /** The command to run, as a user would type it. */
  command: string;
  /** The same as an argv array (no shell), for tools and tests. */
  argv: string[];
}

export interface Finding {
  /** Which check: qemu, qemu-img, accel, pool, store, vm-process, vm-disk, orphan-process, orphan-dir, clock, qemu-bug, migration-buffers, cgroups, apparmor, qemu-user, api-listener, network-tools, network-kernel, ip-forward, network-dns, network-subnet. */
  check: string;
  severity: Severity;
  /** What the finding is about: a VM, pool, PID or path. */
  subject: string | null;
  message: string;
  /** The command that fixes it; null when nothing needs fixing or no command can. */
  fix: Fix | null;
}

export interface DoctorReport {
  host: string;
  checkedAt: string;
  /** The worst severity found. */
  status: Severity;
  findings: Finding[];
}

export interface DoctorDeps {
  host: string;
  vms: VmService;
  probeAccel(signal: AbortSignal): Promise<AccelProbe>;
  pools(): Promise<PoolView[]>;
  volumes(pool: string): Promise<VolumeView[]>;
  /** PRAGMA integrity_check of the store: ['ok'] when sound. */
  integrityCheck(): Promise<string[]>;
  qemuBinary: string;
  qemuImgBinary: string;
  vmsDir: string;
  dbFile: string;
  /** A pool with less free space than this fraction is reported (default 0.10; critical under a third of it). */
  poolMinFreeRatio?: number;
  /** Guest clocks further off than this are reported (default 2 s). */
  maxClockSkewSeconds?: number;
  /** Where the kernel's settings are read (default /proc/sys; tests point it elsewhere). */
  procSysDir?: string;
  /** Where the CPU flags are read (default /proc/cpuinfo; tests point it elsewhere). */
  cpuinfoFile?: string;
  /** The KVM device (default /dev/kvm). */
  kvmDevice?: string;
  /** The stored virtual networks; absent on a daemon that cannot make networks (the network checks are skipped). */
  networks?(): Promise<NetworkConfig[]>;
  /** What the kernel offers for VLAN networks (the network plumbing's probe, once per daemon); null: not probed here. */
  networkVlanSupport?(): Promise<VlanSupport | null>;
  /** Which cgroup hierarchy VMs are placed in, or why none can be. */
  probeCgroups?(): Promise<'v1' | 'v2' | { unavailable: string }>;
  /** Whether per-VM AppArmor profiles can be loaded here (drivers/qemu apparmor-load.ts), and if not, what is missing. */
  probeAppArmor?(): Promise<{ loadable: true } | { loadable: false; reason: string; missing: 'kernel' | 'securityfs' | 'parser' }>;
  /** Who QEMU runs as (qemuUser) and, with per-vm, the uid range and the other live daemons of this host whose ranges overlap it. */
  qemuUser?(): Promise<QemuUserView>;
  /** The API's TCP listener as configured ("off" or HOST:PORT) and whether it serves HTTPS. */
  apiListener?: { listen: string; tls: boolean };
}

export type QemuUserView =
  | { mode: 'root'; /** The daemon's (so QEMU's) effective uid. */ uid: number }
  | {
    mode: 'per-vm'; base: number; count: number; overlaps: Array<{ pid: number; stateDir: string; base: number; count: number }>;
    /** A folder above the daemon's files the VMs' users cannot pass (every VM start fails), or null. */
    closed: { folder: string; mode: number; owner: string; on: string } | null;
  };

export const fix = (...argv: string[]): Fix => ({ argv, command: argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ') });
