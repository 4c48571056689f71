/** Where cluster membership and elections live in the cluster store (docs/cluster-store.md). */
export const CLUSTER_PREFIX = '/polyvisor/v1/';

export function clusterKeys(prefix = CLUSTER_PREFIX) {
  const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return {
    prefix: p,
    hosts: `${p}hosts/`,
    /** The VM records, `vms/NAME`: the cluster store's own key (store/etcd keys.ts, docs/cluster-store.md), watched by the HA manager. */
    vms: `${p}vms/`,
    /** Every host that ever joined (no lease): what `host list` shows as down once its lease is gone. */
    hostsKnown: `${p}hosts-known/`,
    hostKnown: (name: string) => `${p}hosts-known/${name}`,
    /** The administrator's state of a host (cordoned), writable from any host. */
    hostsAdmin: `${p}hosts-admin/`,
    hostAdmin: (name: string) => `${p}hosts-admin/${name}`,
    host: (name: string) => `${p}hosts/${name}`,
    /** Join tokens by the SHA-256 of the token (docs/cluster.md): `join-tokens/HASH`, no lease; single use, expiring. */
    joinTokens: `${p}join-tokens/`,
    joinToken: (hash: string) => `${p}join-tokens/${hash}`,
    /** The cluster itself: written once by `cluster init` (who, when, the etcd endpoints). */
    clusterInfo: `${p}cluster/info`,
    /** A host's drain and its progress per VM (`drain/HOST`), written by the draining host. */
    drain: (name: string) => `${p}drain/${name}`,
    /** Candidates of election `name`: one key per candidate's lease, the lowest create revision leads. */
    election: (name: string) => `${p}election/${name}/`,
    /** HA restarts decided by the leader and not yet carried out by their target host: `ha/restart/VM`. */
    haRestarts: `${p}ha/restart/`,
    haRestart: (vm: string) => `${p}ha/restart/${vm}`,
    /** When HA restarted each VM (for its restart limit): `ha/history/VM`, a JSON array of ms timestamps. */
    haHistory: (vm: string) => `${p}ha/history/${vm}`,
  };
}

export type ClusterKeys = ReturnType<typeof clusterKeys>;
