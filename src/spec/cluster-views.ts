/** What the API says about cluster membership and drains (issue 19; docs/cluster.md). */
import type { HostView } from './host-views.js';

export interface EtcdMemberView {
  endpoint: string;
  healthy: boolean;
  /** Why it is not, when it is not. */
  error: string | null;
}

export interface ClusterStatusView {
  /** The host that answered. */
  host: string;
  /** Whether this daemon is a member (its store is etcd and it has not left). */
  clustered: boolean;
  /** The etcd key prefix of the cluster; null on a single host. */
  prefix: string | null;
  leaseTtlSeconds: number | null;
  /** The host whose HA manager leads (etcd's election); null when none or on a single host. */
  leader: string | null;
  etcd: EtcdMemberView[];
  members: HostView[];
}

export interface JoinTokenCreatedView {
  /** Shown once; etcd keeps its SHA-256. */
  token: string;
  expiresAt: string;
}

/** The answer of `cluster init` and `cluster join`: what was written for the daemon's next start. */
export interface ClusterSetupView {
  host: string;
  endpoints: string[];
  prefix: string;
  /** The file the daemon reads the cluster store from at its next start. */
  configFile: string;
  /** The store changes at the daemon's next start. */
  restartRequired: boolean;
  /** init: VMs and API tokens copied from this host's SQLite store into etcd. */
  copiedVms: number;
  copiedTokens: number;
}

/** What a member gives a host it admits with a join token. */
export interface ClusterJoinGrantView {
  endpoints: string[];
  prefix: string;
  leaseTtlSeconds: number | null;
  /** The cluster's peer credential (a token of the peer role): hosts move VMs between each other with it. */
  peerToken: string;
}

export interface ClusterLeaveView {
  host: string;
  left: boolean;
  /** VMs this host still owned (with --force). */
  abandonedVms: string[];
  restartRequired: boolean;
}

export const DRAIN_STATES = ['draining', 'drained', 'failed'] as const;
export type DrainStateName = (typeof DRAIN_STATES)[number];
export const DRAIN_VM_ACTIONS = ['live-migrate', 'offline-move', 'rehome'] as const;
export const DRAIN_VM_STATES = ['pending', 'moving', 'done', 'failed'] as const;

export interface DrainVmView {
  vm: string;
  action: (typeof DRAIN_VM_ACTIONS)[number];
  state: (typeof DRAIN_VM_STATES)[number];
  /** The host the scheduler picked. */
  to: string | null;
  error: string | null;
}

export interface DrainView {
  host: string;
  /** draining (under way), drained (every VM left), failed (some VMs could not leave; see their errors). */
  state: DrainStateName;
  startedAt: string;
  finishedAt: string | null;
  vms: DrainVmView[];
}
