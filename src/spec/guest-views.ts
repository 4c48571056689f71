/**
 * What a running guest says about itself through its agent (GET
 * /v1/vms/{name}/guest): the agent's version and whether it answers (the
 * heartbeat), the OS, the hostname, its interfaces' addresses, its
 * filesystems and how full they are, and how far its clock is from the
 * host's. Every part may be missing (an agent that lacks the command, a
 * guest still booting): `missing` says which and why.
 */

export interface GuestAgentStatus {
  /** The agent answered guest-sync and guest-info just now. */
  responding: boolean;
  version: string | null;
  /** Round trip of guest-info, ms. */
  latencyMs: number | null;
  /** Why it did not answer (responding false). */
  error: string | null;
}

export interface GuestOs {
  /** Like "Debian GNU/Linux 12 (bookworm)" (os-release PRETTY_NAME). */
  prettyName: string | null;
  id: string | null;
  version: string | null;
  kernelRelease: string | null;
  machine: string | null;
}

export interface GuestAddress {
  family: 'ipv4' | 'ipv6';
  address: string;
  prefix: number;
}

export interface GuestInterfaceInfo {
  name: string;
  mac: string | null;
  addresses: GuestAddress[];
}

export interface GuestFilesystem {
  mountpoint: string;
  type: string;
  /** The guest's device names behind it (e.g. ["vda1"]). */
  devices: string[];
  totalBytes: number | null;
  usedBytes: number | null;
}

export interface GuestInfoView {
  agent: GuestAgentStatus;
  os: GuestOs | null;
  hostname: string | null;
  interfaces: GuestInterfaceInfo[];
  filesystems: GuestFilesystem[];
  /** Guest clock minus host clock, ms. */
  clockSkewMs: number | null;
  /** The agent commands that failed or that the agent lacks, with why. */
  missing: Array<{ part: string; error: string }>;
  readAt: string;
}
