/**
 * Cluster membership (docs/cluster.md): `cluster init|join|status|leave` and
 * join tokens, as Incus does it in spirit — a member makes a token, the new
 * host shows it to a member and is given what it needs to join (the etcd
 * endpoints and prefix, the cluster's peer credential). init and join write
 * the cluster store into a file the daemon reads at its next start
 * (STATE/cluster.json); the store of a running daemon does not change under
 * it. What touches etcd, files, secrets or other daemons comes in as ports
 * (daemon/cluster-membership-wiring.ts), so the rules are tested on their own.
 */
import { fail, isPolyvisorError, PolyvisorError, validateName } from '../shared/index.js';
import type { ClusterJoinGrantView, ClusterLeaveView, ClusterSetupView, ClusterStatusView, EtcdMemberView, JoinTokenCreatedView } from '../spec/index.js';
import type { ClusterKv, VmRecord } from '../store/index.js';
import { currentLeader } from './election.js';
import type { HostDirectory } from './host-directory.js';
import { JoinTokens } from './join-tokens.js';
import { clusterKeys, CLUSTER_PREFIX } from './keys.js';

/** The secret (in this host's secrets store) holding the cluster's peer credential. */
export const PEER_TOKEN_SECRET = 'cluster.peer-token';

export interface ClusterService {
  status(): Promise<ClusterStatusView>;
  init(req: { endpoints: string[]; prefix?: string }): Promise<ClusterSetupView>;
  join(req: { address: string; token: string; fingerprint?: string }): Promise<ClusterSetupView>;
  createToken(ttlSeconds?: number): Promise<JoinTokenCreatedView>;
  /** A member's side of a join: the token is checked and spent, the joiner gets the cluster's settings. */
  admit(req: { token: string; host: string }): Promise<ClusterJoinGrantView>;
  leave(force: boolean): Promise<ClusterLeaveView>;
}

/** The store settings init and join write for the next start. */
export interface ClusterStoreSettings {
  kind: 'etcd';
  endpoints: string[];
  prefix: string;
  leaseTtlSeconds?: number;
}

/** A freshly opened cluster store (init). */
export interface OpenedCluster {
  kv: ClusterKv;
  /** Copies this host's VMs and API tokens into it. */
  seed(): Promise<{ vms: number; tokens: number }>;
  /** Makes the cluster's peer credential there (a token of the peer role); returns it. */
  mintPeerToken(): Promise<string>;
  close(): Promise<void>;
}

export interface MembershipOptions {
  host: string;
  /** Set when this daemon is a cluster host. */
  cluster?: {
    kv: ClusterKv;
    prefix: string;
    endpoints: string[];
    leaseTtlSeconds: number;
    directory: HostDirectory;
    /** Stops HA on this host, disarms its watchdog, revokes its lease. */
    leave(): Promise<void>;
  };
  /** This host's VMs. */
  vms(): Promise<VmRecord[]>;
  /** Every host's VMs. */
  allVms(): Promise<VmRecord[]>;
  secrets: { set(name: string, value: string): Promise<unknown>; reveal(name: string): Promise<string>; has(name: string): boolean };
  settings: { write(s: ClusterStoreSettings): Promise<string>; remove(): Promise<void> };
  /** Opens etcd at `endpoints` (init); ETCD_UNREACHABLE when no quorum answers. */
  open(endpoints: string[], prefix: string): Promise<OpenedCluster>;
  /** Asks the member at `address` to admit this host (join). */
  askToJoin(address: string, fingerprint: string | undefined, body: { token: string; host: string }): Promise<ClusterJoinGrantView>;
  /** Each endpoint's health (a read answered by that member). */
  health(endpoints: string[]): Promise<EtcdMemberView[]>;
}

const ACTIVE = new Set(['starting', 'running', 'paused', 'migrating', 'stopping']);

export class Membership implements ClusterService {
  private left = false;

  constructor(private readonly o: MembershipOptions) {}

  private get member() {
    return this.left ? undefined : this.o.cluster;
  }

  private need() {
    const c = this.member;
    if (!c) fail('NOT_A_CLUSTER', `${this.o.host} is not a cluster member${this.left ? ' any more (it left; restart the daemon)' : ''}`);
    return c;
  }

  async status(): Promise<ClusterStatusView> {
    const c = this.member;
    if (!c) return { host: this.o.host, clustered: false, prefix: null, leaseTtlSeconds: null, leader: null, etcd: [], members: [] };
    const [members, leader, etcd] = await Promise.all([
      c.directory.list(await this.o.allVms()), currentLeader(c.kv, 'ha', c.prefix).catch(() => undefined), this.o.health(c.endpoints),
    ]);
    return { host: this.o.host, clustered: true, prefix: c.prefix, leaseTtlSeconds: c.leaseTtlSeconds, leader: leader?.candidate ?? null, etcd, members };
  }

  private refuseIfMember(): void {
    if (this.member) fail('CLUSTER_EXISTS', `${this.o.host} is already a member of the cluster at ${this.member.endpoints.join(', ')}`);
  }

  async init(req: { endpoints: string[]; prefix?: string }): Promise<ClusterSetupView> {
    this.refuseIfMember();
    const prefix = normalisePrefix(req.prefix);
    const opened = await this.o.open(req.endpoints, prefix);
    try {
      const keys = clusterKeys(prefix);
      const info = JSON.stringify({ createdAt: new Date().toISOString(), createdBy: this.o.host, endpoints: req.endpoints });
      const r = await opened.kv.txn([{ key: keys.clusterInfo, target: 'create', op: '=', value: 0 }], [{ put: keys.clusterInfo, value: info }], [{ get: keys.clusterInfo }]);
      if (!r.succeeded) fail('CLUSTER_EXISTS', `etcd prefix ${prefix} at ${req.endpoints.join(', ')} already holds a cluster (${r.gets[0]?.[0]?.value ?? ''})`);
      const copied = await opened.seed();
      await this.o.secrets.set(PEER_TOKEN_SECRET, await opened.mintPeerToken());
      const configFile = await this.o.settings.write({ kind: 'etcd', endpoints: req.endpoints, prefix });
      return { host: this.o.host, endpoints: req.endpoints, prefix, configFile, restartRequired: true, copiedVms: copied.vms, copiedTokens: copied.tokens };
    } finally {
      await opened.close();
    }
  }

  async join(req: { address: string; token: string; fingerprint?: string }): Promise<ClusterSetupView> {
    this.refuseIfMember();
    if (!/^https?:\/\/[^\s/]+\/?$/.test(req.address)) fail('INVALID_ARGUMENT', `the member's address must be its API URL, like http://10.0.0.1:8006; got ${JSON.stringify(req.address)}`);
    const mine = await this.o.vms();
    if (mine.length) fail('CLUSTER_HOST_BUSY', `${this.o.host} has VMs (${mine.map((v) => v.name).join(', ')}): a joining host must be empty, as with Incus; export or remove them, or make this host the first member with cluster init`);
    const grant = await this.o.askToJoin(req.address.replace(/\/$/, ''), req.fingerprint, { token: req.token, host: this.o.host });
    // This host must reach etcd itself before the next start depends on it.
    const probe = await this.o.open(grant.endpoints, grant.prefix);
    await probe.close();
    await this.o.secrets.set(PEER_TOKEN_SECRET, grant.peerToken);
    const configFile = await this.o.settings.write({ kind: 'etcd', endpoints: grant.endpoints, prefix: grant.prefix, ...(grant.leaseTtlSeconds ? { leaseTtlSeconds: grant.leaseTtlSeconds } : {}) });
    return { host: this.o.host, endpoints: grant.endpoints, prefix: grant.prefix, configFile, restartRequired: true, copiedVms: 0, copiedTokens: 0 };
  }

  async createToken(ttlSeconds?: number): Promise<JoinTokenCreatedView> {
    const c = this.need();
    return new JoinTokens(c.kv, c.prefix).create(this.o.host, ttlSeconds);
  }

  async admit(req: { token: string; host: string }): Promise<ClusterJoinGrantView> {
    const c = this.need();
    validateName(req.host, 'host name');
    const live = await c.directory.live();
    if (live.some((h) => h.name === req.host)) fail('HOST_NAME_TAKEN', `a live member is already called ${req.host}`);
    await new JoinTokens(c.kv, c.prefix).consume(req.token, req.host);
    if (!this.o.secrets.has(PEER_TOKEN_SECRET)) throw new Error(`${this.o.host} has no ${PEER_TOKEN_SECRET} secret although it is a member`);
    return { endpoints: c.endpoints, prefix: c.prefix, leaseTtlSeconds: c.leaseTtlSeconds, peerToken: await this.o.secrets.reveal(PEER_TOKEN_SECRET) };
  }

  async leave(force: boolean): Promise<ClusterLeaveView> {
    const c = this.need();
    const mine = await this.o.vms();
    const running = mine.filter((v) => ACTIVE.has(v.state));
    if (mine.length && !force) {
      fail('CLUSTER_HOST_BUSY', `${this.o.host} still owns VMs (${mine.map((v) => `${v.name} ${v.state}`).join(', ')}): drain it first (polyvisor host drain ${this.o.host}), or leave with --force (${running.length ? 'running VMs keep running but are no longer fenced or restarted by HA' : 'the VMs stay in the cluster store, owned by a host that left'})`);
    }
    await c.leave();
    const keys = clusterKeys(c.prefix);
    await c.kv.delete(keys.hostKnown(this.o.host));
    await c.kv.delete(keys.hostAdmin(this.o.host));
    await c.kv.delete(keys.drain(this.o.host));
    await this.o.settings.remove();
    this.left = true;
    return { host: this.o.host, left: true, abandonedVms: mine.map((v) => v.name), restartRequired: true };
  }
}

function normalisePrefix(prefix: string | undefined): string {
  const p = prefix ?? CLUSTER_PREFIX;
  if (!/^\/[A-Za-z0-9_./-]*$/.test(p)) fail('INVALID_ARGUMENT', `etcd prefix ${JSON.stringify(p)} must look like /polyvisor/v1/`);
  return p.endsWith('/') ? p : `${p}/`;
}

/** ETCD_UNREACHABLE for a store that did not answer (the cause kept). */
export function etcdUnreachable(endpoints: string[], err: unknown): never {
  if (isPolyvisorError(err) && err.code !== 'STORE_UNAVAILABLE' && err.code !== 'TIMEOUT') throw err;
  throw new PolyvisorError('ETCD_UNREACHABLE', `no quorum of etcd answered at ${endpoints.join(', ')}: ${(err as Error).message}`, { cause: err });
}
