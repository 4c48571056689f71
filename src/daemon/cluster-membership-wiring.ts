/**
 * The ports of cluster membership (cluster/membership-service.ts): etcd opened
 * for `cluster init` (this host's VMs and API tokens copied there, the
 * cluster's peer credential made), a member asked to admit this host for
 * `cluster join`, each etcd member's health, the cluster file for the next
 * start (cluster-file.ts), and the secrets store for the peer credential.
 */
import { TokenService } from '../api/index.js';
import { ClusterClient } from '../client/index.js';
import { etcdUnreachable, Membership, type ClusterService, type OpenedCluster } from '../cluster/index.js';
import type { VmService } from '../lifecycle/index.js';
import type { SecretStore } from '../secrets/index.js';
import type { Store, TokenStore } from '../store/index.js';
import { openEtcdStore } from '../store/etcd/index.js';
import { clusterFileOf } from './cluster-file.js';
import type { ClusterHost } from './cluster-wiring.js';
import type { DaemonConfig } from './config.js';
import { etcdTls } from './store-wiring.js';

/** The name of the cluster's peer credential among the API tokens (role peer; valid on every member, tokens live in etcd). */
export const CLUSTER_PEER_TOKEN_NAME = 'cluster-peer';
const HEALTH_TIMEOUT_MS = 2000;

async function openCluster(local: Store & TokenStore, endpoints: string[], prefix: string): Promise<OpenedCluster> {
  const etcd = openEtcdStore({ endpoints, prefix, timeoutMs: 5000 });
  try {
    await etcd.getMeta('store.probe');
  } catch (err) {
    await etcd.close();
    etcdUnreachable(endpoints, err);
  }
  return {
    kv: etcd.kv,
    seed: async () => {
      const vms = await local.listVms();
      for (const v of vms) await etcd.createVm({ id: v.id, name: v.name, spec: v.spec, state: v.state, stateReason: v.stateReason, host: v.host, runtime: v.runtime });
      const tokens = (await local.listTokens()).filter((t) => t.name !== CLUSTER_PEER_TOKEN_NAME);
      for (const t of tokens) await etcd.createToken({ name: t.name, role: t.role, hash: t.hash, prefix: t.prefix, expiresAt: t.expiresAt });
      return { vms: vms.length, tokens: tokens.length };
    },
    mintPeerToken: async () => (await new TokenService(etcd).create(CLUSTER_PEER_TOKEN_NAME, 'peer')).token,
    close: () => etcd.close(),
  };
}

async function health(endpoints: string[], tls: ReturnType<typeof etcdTls>): Promise<Array<{ endpoint: string; healthy: boolean; error: string | null }>> {
  return Promise.all(endpoints.map(async (endpoint) => {
    const one = openEtcdStore({ endpoints: [endpoint], timeoutMs: HEALTH_TIMEOUT_MS, ...(tls ? { tls } : {}) });
    try {
      await one.getMeta('store.probe');
      return { endpoint, healthy: true, error: null };
    } catch (err) {
      return { endpoint, healthy: false, error: (err as Error).message };
    } finally {
      await one.close();
    }
  }));
}

export function wireMembership(o: { config: DaemonConfig; store: Store & TokenStore; cluster: ClusterHost | undefined; service: VmService; secrets: SecretStore }): ClusterService {
  const cfg = o.config.store;
  const files = clusterFileOf(o.config.stateDir);
  return new Membership({
    host: o.config.hostName,
    ...(o.cluster && cfg.kind === 'etcd' ? {
      cluster: {
        kv: o.cluster.directory.kv, prefix: o.cluster.directory.prefix, endpoints: cfg.endpoints, leaseTtlSeconds: o.cluster.agent.lease.ttlSeconds,
        directory: o.cluster.directory, leave: () => o.cluster!.leave(),
      },
    } : {}),
    vms: () => o.service.list(),
    allVms: () => o.service.listAll(),
    secrets: o.secrets,
    settings: files,
    open: (endpoints, prefix) => openCluster(o.store, endpoints, prefix),
    askToJoin: (address, fingerprint, body) => new ClusterClient({ endpoint: { url: address, ...(fingerprint ? { fingerprint } : {}) }, timeoutMs: 30_000 }).admit(body.token, body.host),
    health: (endpoints) => health(endpoints, cfg.kind === 'etcd' ? etcdTls(cfg) : undefined),
  });
}
